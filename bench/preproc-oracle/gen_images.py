"""Probe 1 generator (bench/preproc-oracle.ts runs it with /usr/bin/python3):
random images written with Pillow, and what a Pillow training pipeline feeds
the model: Image.open -> convert('L' | 'RGB') -> resize((W, H), BILINEAR |
NEAREST) -> numpy uint8. Writes <out>/NNN.<ext>, <out>/NNN.expect (raw HWC
uint8) and <out>/manifest.json. Seeded (argv[3]); nothing leaves <out>."""
import io, json, os, random, sys
import numpy as np
from PIL import Image, ImageFile
ImageFile.MAXBLOCK = 1 << 26  # progressive JPEGs of 600x500 need more than the default

out, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
# argv[4] 'chunks': PNGs also get ancillary chunks Pillow reads but does not apply to the pixels it converts (gAMA,
# cHRM, sRGB, iCCP: no colour management in Image.open/convert) and tRNS (grey / RGB key colour at 8 or 16 bits,
# palette alphas): convert('L' | 'RGB') keeps the colours. From a separate stream: a seed's images are as without it.
chunks_opt = len(sys.argv) > 4 and sys.argv[4] == 'chunks'
crng = random.Random(seed + 2000)
rng = random.Random(seed)
nprng = np.random.default_rng(seed)
mrng = random.Random(seed + 1000)  # marker variants: a separate stream, so a seed's other cases stay as before

def markers(path, kind):
    """An Adobe APP14 segment added to a Pillow JPEG: 'adobe1' (transform 1, JFIF kept: libjpeg YCbCr either way),
    'adobe0' (transform 0, JFIF cut: libjpeg reads the YCbCr samples as RGB, and so does Pillow)."""
    d = open(path, 'rb').read()
    app14 = b'\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00' + bytes([1 if kind == 'adobe1' else 0])
    body = d[2:]
    if kind == 'adobe0' and body[:2] == b'\xff\xe0':
        body = body[2 + ((body[2] << 8) | body[3]):]
    open(path, 'wb').write(d[:2] + app14 + body)

def size():
    k = rng.random()
    if k < 0.1: return rng.randint(1, 3), rng.randint(1, 3)
    if k < 0.25: return rng.choice([(1, rng.randint(1, 500)), (rng.randint(1, 600), 1), (600, 2), (3, 500)])
    return rng.randint(1, 600), rng.randint(1, 500)

def content(w, h, c, maxv=255, dtype=np.uint8):
    kind = rng.random()
    if kind < 0.4:
        a = nprng.integers(0, maxv + 1, size=(h, w, c))
    else:  # smooth gradients + noise (JPEG-friendly)
        yy, xx = np.mgrid[0:h, 0:w]
        a = np.stack([(xx * rng.random() * 3 + yy * rng.random() * 3 + rng.random() * maxv) % (maxv + 1) for _ in range(c)], -1)
        a = np.clip(a + nprng.normal(0, maxv / 50, a.shape), 0, maxv)
    return a.astype(dtype)

def add_chunks(path):
    """Ancillary chunks spliced into a written PNG: colour-space ones after IHDR, tRNS (valid for the colour type,
    its key taken from a pixel so some pixels match) before the first IDAT. Returns their names."""
    import zlib, struct
    d = open(path, 'rb').read()
    chunk = lambda t, b: struct.pack('>I', len(b)) + t + b + struct.pack('>I', zlib.crc32(t + b) & 0xffffffff)
    pos, parts = 8, []
    while pos < len(d):
        ln = struct.unpack('>I', d[pos:pos + 4])[0]; parts.append((d[pos + 4:pos + 8], d[pos + 8:pos + 8 + ln])); pos += 12 + ln
    ihdr = parts[0][1]; depth, ct = ihdr[8], ihdr[9]
    names = []
    pre = []
    if crng.random() < 0.5: pre.append(chunk(b'gAMA', struct.pack('>I', crng.choice([45455, 100000, 22000, 1])))); names.append('gAMA')
    if crng.random() < 0.3: pre.append(chunk(b'cHRM', struct.pack('>8I', 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000))); names.append('cHRM')
    k = crng.random()
    if k < 0.3: pre.append(chunk(b'sRGB', bytes([crng.randint(0, 3)]))); names.append('sRGB')
    elif k < 0.6: pre.append(chunk(b'iCCP', b'probe\x00\x00' + zlib.compress(bytes(crng.randint(0, 255) for _ in range(200))))); names.append('iCCP')
    trns = None
    if ct in (0, 2, 3) and not any(t == b'tRNS' for t, _ in parts) and crng.random() < 0.7:
        im = Image.open(path); im.load()
        if ct == 3:
            ncol = len(dict(parts).get(b'PLTE', b'')) // 3
            trns = bytes(crng.choice([0, 0, 128, 255, crng.randint(0, 255)]) for _ in range(crng.randint(1, max(1, ncol))))
        else:
            a = np.asarray(im)
            px = a.reshape(-1, 3 if ct == 2 else 1)[crng.randrange(a.size // (3 if ct == 2 else 1))]
            trns = b''.join(struct.pack('>H', int(v)) for v in px)
        names.append('tRNS')
    outb = b'\x89PNG\r\n\x1a\n'
    for t, b in parts:
        if t == b'IDAT' and trns is not None: outb += chunk(b'tRNS', trns); trns = None
        outb += chunk(t, b)
        if t == b'IHDR': outb += b''.join(pre)
    open(path, 'wb').write(outb)
    return ' '.join(names) or 'none'

cases = []
for i in range(n):
    w, h = size()
    fmt = rng.choice(['png', 'png', 'jpeg'])
    src_mode = rng.choice(['L', 'RGB', 'RGBA', 'P', 'LA', 'I;16', 'RGB16'] if fmt == 'png' else ['L', 'RGB', 'RGB', 'CMYK'])
    meta = {}
    if src_mode == 'I;16':
        a = content(w, h, 1, 65535 if rng.random() < 0.5 else 400, np.uint16)[:, :, 0]
        img = Image.fromarray(a.astype(np.uint16), 'I;16')
    elif src_mode == 'RGB16':
        img = None  # Pillow cannot write 16-bit RGB PNGs: written by hand below
    elif src_mode == 'P':
        img = Image.fromarray(content(w, h, 3), 'RGB').quantize(rng.choice([2, 16, 256]))
    elif src_mode == 'CMYK':
        img = Image.fromarray(content(w, h, 4), 'CMYK')
    else:
        c = {'L': 1, 'RGB': 3, 'RGBA': 4, 'LA': 2}[src_mode]
        a = content(w, h, c)
        img = Image.fromarray(a[:, :, 0] if c == 1 else a, src_mode)
    path = os.path.join(out, f'{i:04d}.{fmt}')
    if src_mode == 'RGB16':
        import zlib, struct
        a = content(w, h, 3, 65535, np.uint16)
        raw = b''.join(b'\x00' + a[y].astype('>u2').tobytes() for y in range(h))
        chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
        with open(path, 'wb') as f:
            f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 16, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
    elif fmt == 'png':
        img.save(path, optimize=rng.random() < 0.3, interlace=0)
    else:
        q = rng.choice([30, 75, 90, 100])
        sub = rng.choice([0, 1, 2]) if src_mode != 'L' else 0
        prog = rng.random() < 0.3
        meta = {'quality': q, 'subsampling': sub, 'progressive': prog}
        img.save(path, quality=q, subsampling=sub, progressive=prog)
        if src_mode == 'RGB' and mrng.random() < 0.4:
            meta['marker'] = mrng.choice(['adobe1', 'adobe0'])
            markers(path, meta['marker'])
    if chunks_opt and fmt == 'png':
        meta['chunks'] = add_chunks(path)
    im = Image.open(path)
    color = rng.choice(['grayscale', 'rgb'])
    resize = rng.choice(['bilinear', 'nearest'])
    W = rng.choice([rng.randint(1, 64), rng.randint(1, 300), im.width, max(1, im.width * 2)])
    H = rng.choice([rng.randint(1, 64), rng.randint(1, 300), im.height, max(1, im.height // 3)])
    conv = im.convert('L' if color == 'grayscale' else 'RGB')
    res = conv.resize((W, H), Image.BILINEAR if resize == 'bilinear' else Image.NEAREST)
    decoded = np.asarray(conv, dtype=np.uint8)
    np.asarray(res, dtype=np.uint8).tofile(path + '.expect')
    decoded.tofile(path + '.decoded')  # before the resize: tells a decode difference from a resize one
    cases.append({'file': os.path.basename(path), 'fmt': fmt, 'srcMode': src_mode, 'pilMode': im.mode, 'w': w, 'h': h,
                  'colorMode': color, 'resize': resize, 'W': W, 'H': H, **meta})
json.dump(cases, open(os.path.join(out, 'manifest.json'), 'w'))
print(f'{len(cases)} images in {out}')
