"""Probe 2 generator (bench/preproc-oracle.ts runs it with /usr/bin/python3):
random uncompressed grayscale DICOM files written with pydicom 2.3.1, and what a
pydicom training pipeline makes of them: pixel_array -> apply_modality_lut ->
apply_voi_lut(index 0, prefer_lut) -> onto 0..255 as the SDK documents (a window:
apply_windowing's output range [y_min, y_max] -> 0..255; a VOI LUT: / (2^bits - 1);
neither: min-max of the frame) -> rounded -> MONOCHROME1 inverted. Writes
<out>/NNNN.dcm, <out>/NNNN.expect (uint8) and <out>/manifest.json. Seeded."""
import json, os, random, sys
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixel_data_handlers.util import apply_modality_lut, apply_voi_lut
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian, generate_uid

out, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
nprng = np.random.default_rng(seed)

def lut_item(entries, first, bits, lo, hi):
    it = Dataset()
    # a negative first value mapped: SS (what PS3.3 C.11.1.1 asks of a signed image) or, as many writers do, US
    vr = 'US' if first >= 0 or rng.random() < 0.5 else 'SS'
    it.add_new(0x00283002, vr, [entries if entries < 65536 else 0, first & 0xFFFF if vr == 'US' else first, bits])
    lut_item.vr = vr
    data = sorted(nprng.integers(lo, hi + 1, size=entries).tolist()) if rng.random() < 0.7 else nprng.integers(lo, hi + 1, size=entries).tolist()
    it.add_new(0x00283006, 'US', [int(x) for x in data])  # LUT Data as US (its VR is US or OW)
    return it

def colour_case(i):
    """RGB / YBR_FULL (8 bits, planar 0 or 1) or PALETTE COLOR (8 or 16 bits, 16-bit tables): the SDK's 8-bit RGB
    against pixel_array, convert_color_space(YBR_FULL -> RGB) and apply_color_lut / 65535 * 255."""
    photo = rng.choice(['RGB', 'YBR_FULL', 'PALETTE COLOR'])
    rows, cols = rng.randint(1, 30), rng.randint(1, 30)
    ts = rng.choice([ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian])
    ds = Dataset(); ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.7'
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(); ds.file_meta.TransferSyntaxUID = ts
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID; ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = 'OT'; ds.Rows, ds.Columns = rows, cols; ds.PhotometricInterpretation = photo; ds.PixelRepresentation = 0
    le = ts != ExplicitVRBigEndian
    if photo == 'PALETTE COLOR':
        ba = rng.choice([8, 16]); ds.SamplesPerPixel = 1; ds.BitsAllocated = ds.BitsStored = ba; ds.HighBit = ba - 1
        entries = rng.randint(2, 256 if ba == 8 else 2000); first = rng.randint(0, 20)
        arr = nprng.integers(0, min(2 ** ba - 1, entries + first + 10) + 1, size=(rows, cols))
        for c in ['Red', 'Green', 'Blue']:
            ds.add_new(getattr(pydicom.tag, 'Tag')(f'{c}PaletteColorLookupTableDescriptor'), 'US', [entries, first, 16])
            ds.add_new(getattr(pydicom.tag, 'Tag')(f'{c}PaletteColorLookupTableData'), 'OW', nprng.integers(0, 65536, size=entries).astype('<u2' if le else '>u2').tobytes())
        ds.PixelData = arr.astype(('<' if le else '>') + ('u1' if ba == 8 else 'u2')).tobytes()
        desc = f'{photo} BA{ba} {rows}x{cols} {ts} palette {entries}@{first}'
    else:
        ds.SamplesPerPixel = 3; ds.BitsAllocated = ds.BitsStored = 8; ds.HighBit = 7
        planar = rng.choice([0, 1]); ds.PlanarConfiguration = planar
        arr = nprng.integers(0, 256, size=(rows, cols, 3)).astype(np.uint8)
        ds.PixelData = (arr.transpose(2, 0, 1) if planar else arr).tobytes()
        desc = f'{photo} {rows}x{cols} planar {planar} {ts}'
    ds.is_little_endian = le; ds.is_implicit_VR = ts == ImplicitVRLittleEndian
    path = os.path.join(out, f'{i:04d}.dcm'); ds.save_as(path, write_like_original=False)
    case = {'file': os.path.basename(path), 'key': photo.replace(' ', '-'), 'desc': desc}
    try:
        from pydicom.pixel_data_handlers.util import apply_color_lut, convert_color_space
        r = pydicom.dcmread(path); px = r.pixel_array
        if photo == 'PALETTE COLOR':
            y = np.floor(apply_color_lut(px, r).astype(np.float64) / 65535 * 255 + 0.5).astype(np.uint8)
            if not le:  # PS3.5 7.3: OW words big-endian here; pydicom 2.3.1's apply_color_lut reads them little-endian (np.frombuffer uint16)
                tabs = [np.frombuffer(getattr(r, f'{c}PaletteColorLookupTableData'), '>u2').astype(np.float64) for c in ['Red', 'Green', 'Blue']]
                idx = np.clip(px.astype(np.int64) - first, 0, entries - 1)
                np.stack([np.floor(t[idx] / 65535 * 255 + 0.5) for t in tabs], -1).astype(np.uint8).tofile(path + '.std'); case['std'] = case['file'] + '.std'
        elif photo == 'YBR_FULL': y = convert_color_space(px, 'YBR_FULL', 'RGB')
        else: y = px
        y.astype(np.uint8).tofile(path + '.expect'); case['expect'] = case['file'] + '.expect'
    except Exception as e:
        case['error'] = f'{type(e).__name__}: {e}'[:160]
    return case

# argv[4] 'luts': half the cases are LUT layouts pydicom 2.3.1 does not read as PS3.3 C.11 says (their expectation is
# the standard's, computed here; pydicom's own result or error is recorded): 8-bit entries packed two to a 16-bit word
# (OW or US words, CP-522), LUT data shorter than its descriptor (must be refused), and a VOI LUT first value mapped
# whose sign the modality output decides (a 12-bit CT's -1024 intercept: SS; after a Modality LUT: US). Separate stream.
luts_opt = len(sys.argv) > 4 and sys.argv[4] == 'luts'
lrng = random.Random(seed + 3000)
lnp = np.random.default_rng(seed + 3000)

def lut_std_case(i):
    kind = lrng.choice(['packed-mlut', 'packed-voi', 'short-mlut', 'short-voi', 'hu-voi', 'signed-mlut-voi'])
    rows, cols = lrng.randint(1, 20), lrng.randint(1, 20)
    ts = lrng.choice([ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian])
    ow = '>u2' if ts == ExplicitVRBigEndian else '<u2'  # OW words in the file's byte order (PS3.5 7.3)
    pr = 1 if kind == 'signed-mlut-voi' else 0
    bs = 12 if kind == 'hu-voi' else 16
    photo = lrng.choice(['MONOCHROME1', 'MONOCHROME2'])
    ds = Dataset(); ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.7'; ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(); ds.file_meta.TransferSyntaxUID = ts
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID; ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = 'OT'; ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, 1; ds.PhotometricInterpretation = photo
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, bs, bs - 1, pr
    arr = lnp.integers(-40 if pr else 0, 300, size=(rows, cols))
    if kind == 'hu-voi': arr = lnp.integers(900, 1200, size=(rows, cols))
    def table(entries, bits, packed, vr):
        data = np.sort(lnp.integers(0, (1 << bits), size=entries)) if lrng.random() < 0.7 else lnp.integers(0, 1 << bits, size=entries)
        it = Dataset()
        if packed:
            b = data.astype(np.uint8).tobytes() + (b'\x00' if entries % 2 else b'')
            words = np.frombuffer(b, '<u2')  # entry 2k in the low byte of word k
            it.add_new(0x00283006, vr, words.astype(ow).tobytes() if vr == 'OW' else [int(w) for w in words])
        else:
            it.add_new(0x00283006, vr, data.astype(ow).tobytes() if vr == 'OW' else [int(x) for x in data])
        return it, data
    mo = arr.astype(np.float64); first_m = None
    if kind in ('packed-mlut', 'short-mlut', 'signed-mlut-voi'):
        bits = 8 if kind == 'packed-mlut' else 16
        entries = lrng.randint(2, 360)
        first_m = lrng.randint(-45, 10) if pr else lrng.randint(0, 10)
        vr = lrng.choice(['OW', 'US'])
        it, data = table(entries, bits, kind == 'packed-mlut', vr)
        if kind == 'signed-mlut-voi': data = np.sort(lnp.integers(33000, 65536, size=entries)); it.LUTData = [int(x) for x in data] if vr == 'US' else data.astype(ow).tobytes()
        if kind == 'short-mlut': it.LUTData = it.LUTData[:len(it.LUTData) // 2] if vr == 'US' else it.LUTData[:2 * (entries // 2)]
        it.add_new(0x00283002, 'US', [entries, first_m & 0xFFFF, bits]); it.ModalityLUTType = 'US'
        ds.ModalityLUTSequence = [it]
        mo = data[np.clip(arr - first_m, 0, entries - 1)].astype(np.float64)
    if kind == 'hu-voi':
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        mo = arr * 1.0 - 1024
    voi = kind in ('packed-voi', 'short-voi', 'hu-voi', 'signed-mlut-voi')
    if voi:
        bits = 8 if kind == 'packed-voi' else 16
        entries = lrng.randint(2, 400)
        first = int(np.min(mo)) + lrng.randint(-5, 20)
        if kind != 'hu-voi': first = max(0, first)  # US there (PS3.3 C.11.2.1.1): unsigned pixels, or a Modality LUT's output
        vr = lrng.choice(['OW', 'US'])
        it, data = table(entries, bits, kind == 'packed-voi', vr)
        if kind == 'short-voi': it.LUTData = it.LUTData[:len(it.LUTData) // 2] if vr == 'US' else it.LUTData[:2 * (entries // 2)]
        it.add_new(0x00283002, 'US', [entries, first & 0xFFFF, bits])
        ds.VOILUTSequence = [it]
        idx = np.clip(np.floor(mo + 0.5).astype(np.int64) - first, 0, entries - 1)
        y = data[idx].astype(np.float64) / (2 ** bits - 1) * 255
    else:
        span = mo.max() - mo.min()
        y = (mo - mo.min()) / span * 255 if span > 0 else mo * 0
    y = np.clip(np.floor(y + 0.5), 0, 255).astype(np.uint8)
    if photo == 'MONOCHROME1': y = 255 - y
    ds.PixelData = (arr.astype(np.int64) & 0xFFFF).astype(ow).tobytes()
    ds.is_little_endian = ts != ExplicitVRBigEndian; ds.is_implicit_VR = ts == ImplicitVRLittleEndian
    path = os.path.join(out, f'{i:04d}.dcm'); ds.save_as(path, write_like_original=False)
    case = {'file': os.path.basename(path), 'key': f'{kind} {photo[-1]}', 'desc': f'{kind} {rows}x{cols} {ts} PR{pr} BS{bs}'}
    if kind.startswith('short'): case['refuse'] = 'DICOM_UNSUPPORTED_IMAGE'
    else: y.tofile(path + '.std'); case['std'] = case['file'] + '.std'
    try:
        r = pydicom.dcmread(path)
        pv = apply_voi_lut(apply_modality_lut(r.pixel_array, r), r, index=0, prefer_lut=True).astype(np.float64)
        case['pydicom'] = 'ran'
    except Exception as e:
        case['error'] = f'{type(e).__name__}: {e}'[:160]
    return case

# argv[4] 'rle': RLE Lossless files written by pydicom's own encoder (the only one 2.3.1 has): 8/16 bits allocated,
# fewer stored, signed or not, garbage in the unused high bits, 1-4 frames and a frame drawn; the expectation is
# the clean frame's min-max (computed here: pydicom 2.3.1's RLE pixel_array does not sign-extend below 16 bits).
rle_opt = len(sys.argv) > 4 and sys.argv[4] == 'rle'
rrng = random.Random(seed + 4000)
rnp = np.random.default_rng(seed + 4000)

def rle_case(i):
    from pydicom.uid import RLELossless
    ba = rrng.choice([8, 16]); bs = rrng.randint(2 if ba == 8 else 9, ba); pr = rrng.choice([0, 1])
    frames = rrng.randint(1, 4); frame = rrng.randrange(frames); rows, cols = rrng.randint(1, 30), rrng.randint(1, 30)
    photo = rrng.choice(['MONOCHROME1', 'MONOCHROME2'])
    ds = Dataset(); ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.7'; ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(); ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID; ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = 'OT'; ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, 1; ds.PhotometricInterpretation = photo
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = ba, bs, bs - 1, pr
    if frames > 1: ds.NumberOfFrames = frames
    lo, hi = (-(1 << (bs - 1)), (1 << (bs - 1)) - 1) if pr else (0, (1 << bs) - 1)
    arr = rnp.integers(lo, hi + 1, size=(frames, rows, cols))
    raw = arr.astype(np.int64) & ((1 << bs) - 1)
    garbage = bs < ba and rrng.random() < 0.5
    if garbage: raw |= rnp.integers(1, 1 << (ba - bs), size=raw.shape) << bs
    ds.is_little_endian = True; ds.is_implicit_VR = False
    ds.PixelData = raw.astype('<u' + str(ba // 8)).tobytes()
    ds.compress(RLELossless, encoding_plugin='pydicom')
    path = os.path.join(out, f'{i:04d}.dcm'); ds.save_as(path, write_like_original=False)
    a = arr[frame].astype(np.float64); span = a.max() - a.min()
    y = np.floor((a - a.min()) / span * 255 + 0.5).astype(np.uint8) if span > 0 else np.zeros(a.shape, np.uint8)
    if photo == 'MONOCHROME1': y = 255 - y
    y.tofile(path + '.std')
    return {'file': os.path.basename(path), 'frame': frame, 'std': os.path.basename(path) + '.std',
            'key': f'rle BA{ba} PR{pr}{" highbits" if garbage else ""}{" multiframe" if frames > 1 else ""} {photo[-1]}', 'desc': f'RLE {rows}x{cols} BA{ba} BS{bs} PR{pr} frame {frame} of {frames}'}

cases = []
for i in range(n):
    if rle_opt:
        cases.append(rle_case(i)); continue
    if luts_opt and lrng.random() < 0.5:
        cases.append(lut_std_case(i)); continue
    if rng.random() < 0.25:
        cases.append(colour_case(i)); continue
    ba = rng.choice([8, 16, 16])
    bs = rng.randint(max(1, 8 if ba == 8 else 9), ba) if ba == 16 else 8
    pr = rng.choice([0, 1])
    photo = rng.choice(['MONOCHROME1', 'MONOCHROME2'])
    rows, cols = rng.randint(1, 40), rng.randint(1, 40)
    lo, hi = (-(1 << (bs - 1)), (1 << (bs - 1)) - 1) if pr else (0, (1 << bs) - 1)
    sub_lo = rng.randint(lo, hi); sub_hi = rng.randint(sub_lo, hi)
    arr = nprng.integers(sub_lo, sub_hi + 1, size=(rows, cols))
    ts = rng.choice([ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian])
    dt = np.dtype(('<' if ts != ExplicitVRBigEndian else '>') + ('i' if pr else 'u') + str(ba // 8))
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.7'
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ts
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = 'OT'
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, 1
    ds.PhotometricInterpretation = photo
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = ba, bs, bs - 1, pr
    desc = [f'{photo} BA{ba} BS{bs} PR{pr} {rows}x{cols} {ts.name.split()[-2] if False else ts}']
    key = []
    # modality: LUT sequence, rescale, or nothing
    m = rng.random()
    if m < 0.15:
        bits = rng.choice([8, 16])
        first = rng.randint(sub_lo - 5, sub_lo + 5)
        entries = rng.randint(2, max(2, min(4096, sub_hi - first + 10)))
        ds.ModalityLUTSequence = [lut_item(entries, first, bits, 0, (1 << bits) - 1)]
        ds.ModalityLUTSequence[0].ModalityLUTType = 'OD'
        key.append(f'mlut{bits}{"-signedfirst-" + lut_item.vr if first < 0 else ""}'); desc.append(f'modality LUT {entries}@{first}/{bits}')
    elif m < 0.6:
        ds.RescaleSlope = rng.choice([1, 2, 0.5, -1, 0.25, 3.7, -0.125])
        ds.RescaleIntercept = rng.choice([0, -1024, 100.5, -0.5, 7])
        key.append('rescale'); desc.append(f'rescale {ds.RescaleSlope} {ds.RescaleIntercept}')
    v = rng.random()
    if v < 0.2:
        bits = rng.choice([8, 16])
        # first value mapped in the modality output's units
        mo = apply_modality_lut(arr, ds) if 'ModalityLUTSequence' in ds or 'RescaleSlope' in ds else arr
        mlo = int(np.floor(np.min(mo))); mhi = int(np.ceil(np.max(mo)))
        first = rng.randint(mlo - 3, max(mlo - 3, min(mhi, mlo + 50)))
        first = max(-32768 if pr else 0, min(first, 32767 if pr else 65535))
        entries = rng.randint(2, min(4096, max(2, mhi - first + 5)))
        ds.VOILUTSequence = [lut_item(entries, first, bits, 0, (1 << bits) - 1)]
        key.append(f'voilut{bits}{"-signedfirst-" + lut_item.vr if first < 0 else ""}'); desc.append(f'VOI LUT {entries}@{first}/{bits}')
    elif v < 0.8:
        mo = apply_modality_lut(arr, ds) if 'ModalityLUTSequence' in ds or 'RescaleSlope' in ds else arr
        nw = rng.choice([1, 1, 2])
        cs = [round(float(rng.uniform(np.min(mo), np.max(mo) + 1)), rng.choice([0, 1, 2])) for _ in range(nw)]
        fn = rng.choice([None, 'LINEAR', 'LINEAR_EXACT', 'SIGMOID'])
        ws = [round(rng.uniform(1 if fn in (None, 'LINEAR') else 0.5, max(2, float(np.max(mo) - np.min(mo)) * 1.5)), rng.choice([0, 1])) for _ in range(nw)]
        ds.WindowCenter = cs if nw > 1 else cs[0]
        ds.WindowWidth = ws if nw > 1 else ws[0]
        if fn: ds.VOILUTFunction = fn
        key.append(f'window-{fn or "default"}'); desc.append(f'window {cs}/{ws} {fn}')
    else:
        key.append('range')
    if rng.random() < 0.15:
        ds.PixelPaddingValue = int(sub_lo)
        key.append('padding'); desc.append(f'padding {sub_lo}')
    ds.PixelData = arr.astype(dt).tobytes()
    ds.is_little_endian = ts != ExplicitVRBigEndian
    ds.is_implicit_VR = ts == ImplicitVRLittleEndian
    path = os.path.join(out, f'{i:04d}.dcm')
    ds.save_as(path, write_like_original=False)
    garbage = bs < ba and rng.random() < 0.2
    case = {'file': os.path.basename(path), 'key': ' '.join(key) + f' {photo[-1]}', 'desc': '; '.join(desc)}
    try:
        r = pydicom.dcmread(path)
        px = r.pixel_array
        mo = apply_modality_lut(px, r)
        def grey(mo):
            vo = apply_voi_lut(mo, r, index=0, prefer_lut=True).astype(np.float64)
            if 'VOILUTSequence' in r:
                y = vo / (2 ** int(r.VOILUTSequence[0].LUTDescriptor[2]) - 1) * 255
            elif 'WindowCenter' in r:
                # apply_windowing's output range (pydicom 2.3.1 pixel_data_handlers/util.py)
                y_min, y_max = (-(2 ** (bs - 1)), 2 ** (bs - 1) - 1) if pr else (0, 2 ** bs - 1)
                if 'ModalityLUTSequence' in r:
                    y_min, y_max = 0, 2 ** r.ModalityLUTSequence[0].LUTDescriptor[2] - 1
                elif 'RescaleSlope' in r:
                    y_min, y_max = y_min * r.RescaleSlope + r.RescaleIntercept, y_max * r.RescaleSlope + r.RescaleIntercept  # reversed for a negative slope
                y = (vo - y_min) / (y_max - y_min) * 255
            else:
                span = vo.max() - vo.min()
                y = (vo - vo.min()) / span * 255 if span > 0 else vo * 0
            y = np.clip(np.floor(y + 0.5), 0, 255).astype(np.uint8)
            if photo == 'MONOCHROME1': y = 255 - y
            return y
        y = grey(mo)
        y.tofile(path + '.expect')
        case['expect'] = case['file'] + '.expect'
        if 'VOILUTSequence' in r:
            # PS3.3 C.11.2.1.1 without pydicom 2.3.1's two liberties: its index array has the
            # LUT's dtype (uint8 for 8-bit entries: an index past 255 wraps) and it truncates
            # a fractional modality output; here int64 and rounded
            it = r.VOILUTSequence[0]; ne, first, bits = it.LUTDescriptor[0] or 65536, it.LUTDescriptor[1], it.LUTDescriptor[2]
            if pr and first >= 32768: first -= 65536
            mo64 = apply_modality_lut(px.astype(np.int64), r)  # and the modality LUT's index not in int8 (below)
            idx = np.clip(np.floor(mo64.astype(np.float64) + 0.5).astype(np.int64) - first, 0, ne - 1)
            lut = np.frombuffer(it.LUTData, dtype='<u2' if r.is_little_endian else '>u2') if isinstance(it.LUTData, bytes) else np.asarray(it.LUTData)  # OW in implicit VR
            ys = np.floor(lut.astype(np.float64)[idx] / (2 ** bits - 1) * 255 + 0.5).astype(np.uint8)
            if photo == 'MONOCHROME1': ys = 255 - ys
            ys.tofile(path + '.std')
            case['std'] = case['file'] + '.std'
        elif 'ModalityLUTSequence' in r:
            # pydicom 2.3.1 indexes the modality LUT in the pixels' own dtype (int8 for 8 bits signed: an index past 127 wraps)
            grey(apply_modality_lut(px.astype(np.int64), r)).tofile(path + '.std')
            case['std'] = case['file'] + '.std'
    except Exception as e:  # pydicom's own failure: reported, not compared
        case['error'] = f'{type(e).__name__}: {e}'[:160]
    if garbage:
        # The expectation above is the clean file's; now the unused high bits get random values (the SDK must ignore them)
        raw = arr.astype(np.int64) & ((1 << bs) - 1)
        raw |= nprng.integers(1, 1 << (ba - bs), size=raw.shape) << bs
        ds.PixelData = raw.astype(dt.newbyteorder('=').str.replace('i', 'u')).astype(np.dtype(dt.str.replace('i', 'u'))).tobytes()
        ds.save_as(path, write_like_original=False)
        case['key'] += ' highbits'
    cases.append(case)
json.dump(cases, open(os.path.join(out, 'manifest.json'), 'w'))
print(f'{len(cases)} DICOM files in {out}')
