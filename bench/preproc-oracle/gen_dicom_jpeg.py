"""Probe 4b (bench/preproc-oracle.ts dicom-jpeg; /usr/bin/python3 with pydicom 2.3.1, Pillow, numpy): the grey
baseline (non-progressive) JPEGs gen_jpeg_quality.py wrote into <dir>, each encapsulated as a DICOM file (JPEG
Baseline 1.2.840.10008.1.2.4.50, 8 bits, MONOCHROME2, window centre 128 / width 256: PS3.3's linear window is then
the identity on 0..255) -> <file>.dcm, and pydicom's pixel_array of it (its Pillow handler) -> <file>.dcm.expect
(raw uint8), or the error, in <dir>/dicom-jpeg.json. Nothing leaves <dir>."""
import json, os, sys
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import generate_uid, JPEGBaseline8Bit

d = sys.argv[1]
out = []
for c in json.load(open(os.path.join(d, 'manifest.json')))['cases']:
    if c['mode'] != 'L' or ' prog' in c['key']:
        continue
    ds = Dataset(); ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.7'
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(); ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID; ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = 'OT'; ds.Rows, ds.Columns, ds.SamplesPerPixel = c['h'], c['w'], 1
    ds.PhotometricInterpretation = 'MONOCHROME2'
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.WindowCenter, ds.WindowWidth = 128, 256
    ds.PixelData = encapsulate([open(os.path.join(d, c['file']), 'rb').read()])
    ds['PixelData'].is_undefined_length = True
    ds.is_little_endian, ds.is_implicit_VR = True, False
    f = os.path.join(d, c['file'] + '.dcm')
    ds.save_as(f, write_like_original=False)
    r = {'file': c['file'] + '.dcm', 'key': c['key'], 'w': c['w'], 'h': c['h']}
    try:
        np.asarray(pydicom.dcmread(f).pixel_array, dtype=np.uint8).tofile(f + '.expect')
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        r['error'] = f'{type(e).__name__}: {e}'
    out.append(r)
json.dump(out, open(os.path.join(d, 'dicom-jpeg.json'), 'w'))
