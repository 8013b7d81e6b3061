"""Probe 3 decoder (bench/preproc-oracle.ts layouts): Pillow's decode of JPEGs
the probe wrote itself (layouts Pillow cannot write: 4:4:0, 4:1:1, RGB ids,
Adobe-marked YCCK, ...). For each file of <dir>/manifest.json: Image.open ->
convert('RGB') -> <file>.decoded (raw HWC uint8), or the error in
<dir>/pillow.json. Nothing leaves <dir>."""
import json, os, sys
import numpy as np
from PIL import Image

d = sys.argv[1]
out = {}
for c in json.load(open(os.path.join(d, 'manifest.json'))):
    try:
        im = Image.open(os.path.join(d, c['file']))
        out[c['file']] = {'mode': im.mode}
        np.asarray(im.convert('RGB'), dtype=np.uint8).tofile(os.path.join(d, c['file'] + '.decoded'))
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        out[c['file']] = {'error': f'{type(e).__name__}: {e}'}
json.dump(out, open(os.path.join(d, 'pillow.json'), 'w'))
