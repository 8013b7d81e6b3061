"""Inputs for bench/e2e-oracle.ts --inputs (run with /usr/bin/python3: Pillow 9.4, pydicom 2.3.1, numpy), and
the model input a training pipeline makes of each, computed here, independently of the SDK.
argv: OUT_DIR CASES_JSON. Each case: {file, kind: png16|exif|dicom|resize, seed, H, W, C (1|3), resize:
bilinear|nearest|tf-bilinear, png16?: pillow|high-byte, orientation?: stored|exif, fixture?: a DICOM path}.
Writes OUT_DIR/<file> and OUT_DIR/<file>.expect (float32 H x W x C, 0..255 before the model's scaling) and
OUT_DIR/<file>.json ({desc} or {error}). The pipelines:
  png16:  grey, RGB, grey+alpha or RGBA at 16 bits: Image.open -> convert('L'|'RGB') (Pillow: a grey I;16
          saturates at 255, colour and grey+alpha keep the high byte);
          'high-byte': numpy v >> 8 (tf.io.decode_png dtype uint8), grey -> RGB by repetition; then the resize
  exif:   a JPEG (4:4:4, quality 95), or a PNG (a third: the tag in eXIf, a tEXt/zTXt raw profile or XMP), with
          Exif orientation 1..8: ImageOps.exif_transpose when the model records
          'exif', as stored when 'stored'; convert; resize
  dicom:  pydicom pixel_array -> apply_modality_lut -> apply_voi_lut(index 0, prefer_lut) -> 0..255 as the SDK
          documents (a window: apply_windowing's output range; neither: min-max) -> rounded -> MONOCHROME1 inverted;
          then as an 8-bit 'L' image: convert, resize
  resize: an 8-bit PNG (L, LA, RGB, RGBA, P) of another size: convert, resize
The resize: Pillow's BILINEAR (antialiased when shrinking) or NEAREST on uint8; 'tf-bilinear': tf.image.resize
bilinear (half-pixel centres, no antialias) in float64 here, not rounded."""
import io, json, os, random, struct, sys, zlib
import numpy as np
from PIL import Image, ImageOps

out, cases = sys.argv[1], json.load(open(sys.argv[2]))


def tf_bilinear(a, W, H):
    """tf.image.resize(method='bilinear', antialias=False) of an H0 x W0 x C array (half_pixel_centers)."""
    a = a.astype(np.float64)
    h0, w0 = a.shape[:2]

    def axis(n_out, n_in):
        s = n_in / n_out
        x = (np.arange(n_out) + 0.5) * s - 0.5
        lo = np.floor(x)
        f = x - lo
        lo = lo.astype(np.int64)
        return np.clip(lo, 0, n_in - 1), np.clip(lo + 1, 0, n_in - 1), f

    y0, y1, fy = axis(H, h0)
    x0, x1, fx = axis(W, w0)
    top = a[y0][:, x0] * (1 - fx)[None, :, None] + a[y0][:, x1] * fx[None, :, None]
    bot = a[y1][:, x0] * (1 - fx)[None, :, None] + a[y1][:, x1] * fx[None, :, None]
    return top * (1 - fy)[:, None, None] + bot * fy[:, None, None]


def finish(img, c):
    """An 8-bit Pillow image (any mode) -> the model's H x W x C float pixels, 0..255."""
    conv = img.convert('L' if c['C'] == 1 else 'RGB')
    return resize_arr(np.asarray(conv, dtype=np.uint8), c)


def resize_arr(a, c):
    if a.ndim == 2:
        a = a[:, :, None]
    if c['resize'] == 'tf-bilinear':
        return tf_bilinear(a, c['W'], c['H'])
    im = Image.fromarray(a[:, :, 0] if a.shape[2] == 1 else a, 'L' if a.shape[2] == 1 else 'RGB')
    r = im.resize((c['W'], c['H']), Image.BILINEAR if c['resize'] == 'bilinear' else Image.NEAREST)
    return np.asarray(r, dtype=np.float64).reshape(c['H'], c['W'], a.shape[2])


def other_size(rng, c):
    k = rng.random()
    if k < 0.3:
        return c['W'], c['H']
    if k < 0.5:
        return rng.randint(1, 3), rng.randint(1, 3)
    return rng.randint(1, 6 * c['W']), rng.randint(1, 6 * c['H'])


def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)


def png16(rng, nprng, c, path):
    w, h = other_size(rng, c)
    layout = rng.choice(['grey', 'grey', 'rgb', 'grey+alpha', 'rgba'])
    grey = layout.startswith('grey')
    spp, ct = {'grey': (1, 0), 'rgb': (3, 2), 'grey+alpha': (2, 4), 'rgba': (4, 6)}[layout]
    top = rng.choice([65535, 400, 300])  # 400: most samples below 256 (Pillow's saturation decides), 65535: above
    a = nprng.integers(0, top + 1, size=(h, w, spp)).astype(np.uint16)
    raw = b''.join(b'\x00' + a[y].astype('>u2').tobytes() for y in range(h))
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 16, ct, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
    a = a[:, :, :1] if grey else a[:, :, :3]  # the alpha channel is dropped (convert; decode_png with 1 or 3 channels)
    if c['png16'] == 'high-byte':
        b = (a >> 8).astype(np.uint8)
        if c['C'] == 3 and grey:
            b = np.repeat(b, 3, axis=2)
        elif c['C'] == 1 and not grey:
            b = np.asarray(Image.fromarray(b, 'RGB').convert('L'), dtype=np.uint8)  # as the SDK documents: ITU-R 601-2 luma
        x = resize_arr(b, c)
    else:
        x = finish(Image.open(path), c)
    return x, f"png16 {layout} max {top} {w}x{h} {c['png16']}"


def exif(rng, nprng, c, path):
    w, h = other_size(rng, c)
    o = rng.randint(1, 8)
    yy, xx = np.mgrid[0:h, 0:w]
    a = np.stack([(xx * rng.uniform(0, 60) + yy * rng.uniform(0, 60) + rng.uniform(0, 255)) % 256 for _ in range(3)], -1).astype(np.uint8)
    img = Image.fromarray(a[:, :, 0] if c['C'] == 1 else a, 'L' if c['C'] == 1 else 'RGB')
    e = Image.Exif()
    e[0x0112] = o
    # a third of them a PNG with the tag in an eXIf chunk, a zTXt/tEXt "Raw profile type exif" (ImageMagick's) or
    # XMP in iTXt: Pillow's exif_transpose turns those too
    fmt = 'png' if rng.random() < 1 / 3 else 'jpeg'
    if fmt == 'png':
        where = rng.choice(['eXIf', 'eXIf', 'zTXt', 'tEXt', 'XMP'])
        fmt = f'png-{where}'
        if where == 'eXIf':
            img.save(path, format='PNG', exif=e.tobytes())
        else:
            from PIL import PngImagePlugin
            info = PngImagePlugin.PngInfo()
            if where == 'XMP':
                info.add_itxt('XML:com.adobe.xmp', f'<x:xmpmeta><rdf:Description tiff:Orientation="{o}"/></x:xmpmeta>')
            else:
                raw = e.tobytes()  # "Exif\0\0" + TIFF
                h = raw.hex()
                info.add_text('Raw profile type exif', '\nexif\n%8d\n' % len(raw) + '\n'.join(h[i:i + 72] for i in range(0, len(h), 72)) + '\n', zip=where == 'zTXt')
            img.save(path, format='PNG', pnginfo=info)
    else:
        img.save(path, format='JPEG', quality=95, subsampling=0, exif=e.tobytes())
    im = Image.open(path)
    if c['orientation'] == 'exif':
        im = ImageOps.exif_transpose(im)
    return finish(im, c), f"{fmt} exif {o} {w}x{h} {c['orientation']}"


def resize_case(rng, nprng, c, path):
    w, h = other_size(rng, c)
    mode = rng.choice(['L', 'LA', 'RGB', 'RGBA', 'P'])
    ch = {'L': 1, 'LA': 2, 'RGB': 3, 'RGBA': 4, 'P': 3}[mode]
    a = nprng.integers(0, 256, size=(h, w, ch)).astype(np.uint8)
    img = Image.fromarray(a[:, :, 0] if ch == 1 else a, 'RGB' if mode == 'P' else mode)
    if mode == 'P':
        img = img.quantize(rng.choice([2, 16, 256]))
    img.save(path)
    return finish(Image.open(path), c), f'png {mode} {w}x{h}'


def dicom_grey(r):
    from pydicom.pixel_data_handlers.util import apply_modality_lut, apply_voi_lut
    px = r.pixel_array
    if px.ndim == 3:
        px = px[0]
    bs, pr = int(r.BitsStored), int(r.PixelRepresentation)
    vo = apply_voi_lut(apply_modality_lut(px, r), r, index=0, prefer_lut=True).astype(np.float64)
    if 'VOILUTSequence' in r:
        y = vo / (2 ** int(r.VOILUTSequence[0].LUTDescriptor[2]) - 1) * 255
    elif 'WindowCenter' in r:
        y_min, y_max = (-(2 ** (bs - 1)), 2 ** (bs - 1) - 1) if pr else (0, 2 ** bs - 1)
        if 'ModalityLUTSequence' in r:
            y_min, y_max = 0, 2 ** r.ModalityLUTSequence[0].LUTDescriptor[2] - 1
        elif 'RescaleSlope' in r:
            sl, ic = float(r.RescaleSlope), float(getattr(r, 'RescaleIntercept', 0))
            y_min, y_max = y_min * sl + ic, y_max * sl + ic
        y = (vo - y_min) / (y_max - y_min) * 255
    else:
        span = vo.max() - vo.min()
        y = (vo - vo.min()) / span * 255 if span > 0 else vo * 0
    y = np.clip(np.floor(y + 0.5), 0, 255).astype(np.uint8)
    if r.PhotometricInterpretation == 'MONOCHROME1':
        y = 255 - y
    return y


def dicom(rng, nprng, c, path):
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian, generate_uid
    if c.get('fixture'):
        r = pydicom.dcmread(c['fixture'])
        open(path, 'wb').write(open(c['fixture'], 'rb').read())
        return finish(Image.fromarray(dicom_grey(r), 'L'), c), f"dicom fixture {os.path.basename(c['fixture'])} {r.Columns}x{r.Rows}"
    w, h = other_size(rng, c)
    ba = rng.choice([8, 16, 16])
    bs = rng.randint(9, 16) if ba == 16 else 8
    pr = rng.choice([0, 1])
    photo = rng.choice(['MONOCHROME1', 'MONOCHROME2'])
    lo, hi = (-(1 << (bs - 1)), (1 << (bs - 1)) - 1) if pr else (0, (1 << bs) - 1)
    sub_lo = rng.randint(lo, hi)
    sub_hi = rng.randint(sub_lo, hi)
    arr = nprng.integers(sub_lo, sub_hi + 1, size=(h, w))
    ts = rng.choice([ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian])
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.7'
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ts
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = 'OT'
    ds.Rows, ds.Columns, ds.SamplesPerPixel = h, w, 1
    ds.PhotometricInterpretation = photo
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = ba, bs, bs - 1, pr
    desc = f'dicom {photo} BA{ba} BS{bs} PR{pr} {w}x{h}'
    if rng.random() < 0.5:
        ds.RescaleSlope = rng.choice([1, 2, 0.5, -1, 0.25, 3.7])
        ds.RescaleIntercept = rng.choice([0, -1024, 100.5, 7])
        desc += f' rescale {ds.RescaleSlope}/{ds.RescaleIntercept}'
    if rng.random() < 0.6:
        from pydicom.pixel_data_handlers.util import apply_modality_lut
        mo = apply_modality_lut(arr, ds) if 'RescaleSlope' in ds else arr
        ds.WindowCenter = round(float(rng.uniform(np.min(mo), np.max(mo) + 1)), rng.choice([0, 1]))
        ds.WindowWidth = round(rng.uniform(2, max(3, float(np.max(mo) - np.min(mo)) * 1.5)), rng.choice([0, 1]))
        desc += f' window {ds.WindowCenter}/{ds.WindowWidth}'
    else:
        desc += ' range'
    dt = np.dtype(('<' if ts != ExplicitVRBigEndian else '>') + ('i' if pr else 'u') + str(ba // 8))
    ds.PixelData = arr.astype(dt).tobytes()
    ds.is_little_endian = ts != ExplicitVRBigEndian
    ds.is_implicit_VR = ts == ImplicitVRLittleEndian
    ds.save_as(path, write_like_original=False)
    return finish(Image.fromarray(dicom_grey(pydicom.dcmread(path)), 'L'), c), desc


KINDS = {'png16': png16, 'exif': exif, 'resize': resize_case, 'dicom': dicom}
for c in cases:
    path = os.path.join(out, c['file'])
    rng = random.Random(c['seed'])
    nprng = np.random.default_rng(c['seed'])
    try:
        x, desc = KINDS[c['kind']](rng, nprng, c, path)
        x.astype('<f4').tofile(path + '.expect')
        json.dump({'desc': desc}, open(path + '.json', 'w'))
    except Exception as e:
        json.dump({'error': f'{type(e).__name__}: {e}'[:200]}, open(path + '.json', 'w'))
