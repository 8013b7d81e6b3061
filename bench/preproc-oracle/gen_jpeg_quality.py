"""Probe 4 generator (bench/preproc-oracle.ts jpeg-quality; run with /usr/bin/python3): JPEGs written by Pillow 9.4
across its encoder's settings, and Pillow's own decode of each (libjpeg-turbo, JDCT_ISLOW, fancy upsampling):
grey and colour; quality 1..100 or custom quantisation tables (all 255, all 1, mixed random 1..255); 4:4:4, 4:2:2,
4:2:0; progressive; optimize; restart intervals (added losslessly by jpegtran -restart where /usr/bin/jpegtran exists,
else none: the manifest says so); odd sizes (1x1, 1xN, Nx1, 17x9, ...); content: uniform noise, photo-like (smooth
field + noise), hard edges (0/255 blocks: the largest ringing, out-of-range IDCT values under coarse tables) and crops
of the real X-rays in <fixtures>/xray re-encoded. Writes <out>/NNNN.jpeg, <out>/NNNN.jpeg.decoded (Image.open ->
numpy uint8, the file's own mode L or RGB, no conversion) and <out>/manifest.json. Seeded (argv[3]); nothing leaves
<out>."""
import glob, json, os, random, shutil, subprocess, sys
import numpy as np
from PIL import Image, ImageFile
ImageFile.MAXBLOCK = 1 << 26

out, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fixtures = sys.argv[4] if len(sys.argv) > 4 else ''
rng = random.Random(seed)
nprng = np.random.default_rng(seed)
jpegtran = shutil.which('jpegtran')
xrays = sorted(glob.glob(os.path.join(fixtures, 'xray', '*', '*.jpeg'))) if fixtures else []
ODD = [(1, 1), (1, 37), (53, 1), (17, 9), (9, 17), (8, 8), (16, 16), (15, 15), (33, 65), (2, 3), (1, 16), (23, 1)]


def size():
    k = rng.random()
    if k < 0.35: return rng.choice(ODD)
    return rng.randint(1, 300), rng.randint(1, 240)


def content(w, h, c, kind):
    if kind == 'noise':
        return nprng.integers(0, 256, size=(h, w, c)).astype(np.uint8)
    if kind == 'edges':
        b = rng.choice([1, 2, 3, 5, 8])
        yy, xx = np.mgrid[0:h, 0:w]
        base = (((yy // b) + (xx // b)) % 2) * 255
        a = np.repeat(base[:, :, None], c, axis=2)
        if c == 3 and rng.random() < 0.5:  # saturated colours: chroma extremes too
            a[:, :, rng.randrange(3)] = 255 - a[:, :, 0]
        return a.astype(np.uint8)
    # photo-like: a smooth field (low-frequency cosines) plus noise
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    a = np.zeros((h, w, c))
    for ch in range(c):
        f = 128 + 60 * np.cos(xx / rng.uniform(3, 40) + rng.uniform(0, 6)) + 50 * np.sin(yy / rng.uniform(3, 40) + rng.uniform(0, 6))
        a[:, :, ch] = f + nprng.normal(0, rng.choice([2, 8, 20]), size=(h, w))
    return np.clip(a, 0, 255).astype(np.uint8)


def qtables(kind, colour):
    k = 2 if colour else 1
    if kind == 'all255': return [[255] * 64] * k
    if kind == 'all1': return [[1] * 64] * k
    if kind == 'mixed': return [[rng.randint(1, 255) for _ in range(64)] for _ in range(k)]
    # 'lowhigh': DC step 1, AC steps coarse (large AC against a fine DC: the widest IDCT excursions)
    return [[1] + [rng.choice([128, 200, 255]) for _ in range(63)] for _ in range(k)]


cases = []
for i in range(n):
    colour = rng.random() < 0.55
    mode = 'RGB' if colour else 'L'
    src = rng.random()
    if xrays and src < 0.15:
        im = Image.open(rng.choice(xrays)).convert('L')
        cw, chh = min(im.width, rng.randint(8, 512)), min(im.height, rng.randint(8, 512))
        x0, y0 = rng.randint(0, im.width - cw), rng.randint(0, im.height - chh)
        im = im.crop((x0, y0, x0 + cw, y0 + chh))
        if colour: im = im.convert('RGB')
        kind = 'xray'
    else:
        w, h = size()
        kind = rng.choice(['noise', 'photo', 'photo', 'edges'])
        a = content(w, h, 3 if colour else 1, kind)
        im = Image.fromarray(a if colour else a[:, :, 0], mode)
    opts = {}
    qk = rng.random()
    if qk < 0.3:
        q = rng.randint(1, 10); opts['quality'] = q; qname = 'q1-10'
    elif qk < 0.65:
        q = rng.randint(11, 100); opts['quality'] = q; qname = 'q11-100'
    else:
        qname = rng.choice(['all255', 'all1', 'mixed', 'lowhigh']); opts['qtables'] = qtables(qname, colour)
    if colour: opts['subsampling'] = rng.choice([0, 1, 2])
    if rng.random() < 0.3: opts['progressive'] = True
    if rng.random() < 0.3: opts['optimize'] = True
    file = f'{i:04d}.jpeg'
    path = os.path.join(out, file)
    im.save(path, 'JPEG', **opts)
    restart = None
    if jpegtran and rng.random() < 0.2:
        restart = rng.choice(['1', '2', '5B', '1B'])
        tmp = path + '.rst'
        subprocess.run([jpegtran, '-copy', 'all', '-restart', restart, '-outfile', tmp, path], check=True)
        os.replace(tmp, path)
    dec = Image.open(path)
    np.asarray(dec, dtype=np.uint8).tofile(path + '.decoded')
    sub = ['4:4:4', '4:2:2', '4:2:0'][opts['subsampling']] if colour else ''
    key = ' '.join(x for x in [mode, sub, kind, qname, 'prog' if opts.get('progressive') else '', 'opt' if opts.get('optimize') else '', f'rst{restart}' if restart else ''] if x)
    cases.append({'file': file, 'mode': dec.mode, 'w': dec.width, 'h': dec.height, 'key': key, 'kind': kind, 'q': qname, 'sub': sub, 'quality': opts.get('quality')})
json.dump({'cases': cases, 'jpegtran': bool(jpegtran)}, open(os.path.join(out, 'manifest.json'), 'w'))
