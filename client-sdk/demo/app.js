// Demo page logic. Loads the SDK's browser bundle from ./sdk.js and the party
// URLs and token from ./config.json (both put there by P0's server).
import { PrivateInferenceClient, applyOrientation, decodeDicom, decodeImage, isDicom } from './sdk.js';

const $ = (id) => document.getElementById(id);
const STAGES = ['reading', 'encoding', 'uploading', 'computing', 'reconstructing', 'done'];
const TEXT = {
  reading: 'Reading the image on this device…',
  encoding: 'Decoding, preprocessing and secret-sharing the image…',
  uploading: 'Sending one share to party 0 and one to party 1…',
  computing: 'The parties are running the model on the shares…',
  reconstructing: 'Combining the output shares…',
  done: 'Done.',
};

function setStatus(stage, text) {
  const status = $('status');
  status.dataset.stage = stage;
  status.textContent = text;
  const at = STAGES.indexOf(stage);
  for (const li of document.querySelectorAll('#stages li')) {
    const i = STAGES.indexOf(li.dataset.stage);
    li.classList.toggle('active', i === at);
    li.classList.toggle('past', at >= 0 && i < at);
  }
}

/** How the model's policy lets the page ask: label-only models (and PATE teacher ensembles) need privacy.outputMode. */
function predictOptions(model) {
  const mode = model?.privacy?.outputMode ?? 'logits';
  return mode === 'logits' ? {} : { privacy: { outputMode: mode } };
}

function describeModel(m) {
  const parts = [`Model ${m.modelHash.slice(0, 12)}…`];
  if (m.ensemble) parts.push(`a PATE ensemble of ${m.ensemble.teachers} hospitals' teacher models (${m.ensemble.aggregation === 'noisy-max' ? 'noisy-max vote' : 'majority vote'})`);
  const mode = m.privacy?.outputMode ?? 'logits';
  if (mode !== 'logits') parts.push('the parties release only the label');
  if (m.privacy?.dp) parts.push(`differential privacy: ${m.privacy.dp.mechanism}, epsilon ${m.privacy.dp.epsilon} per image from your budget`);
  return parts.join('; ');
}

/**
 * What went wrong, in words for a clinician (the SDK's error code and, for DICOM
 * files, its reason go to the small technical line below the status).
 */
const DICOM_WORDS = {
  DICOM_NO_PIXEL_DATA: 'This DICOM file contains no image: it may be a report, a dose record or a treatment plan. Please choose the image file of the study.',
  DICOM_TRUNCATED: 'This file is incomplete: the image data ends early, as if the transfer was interrupted. Please export or download the study again.',
  DICOM_UNSUPPORTED_SYNTAX: 'The image in this file is compressed in a format this page cannot read. Ask for the study to be exported uncompressed (or as JPEG / JPEG 2000) and try again.',
  DICOM_UNSUPPORTED_IMAGE: 'This kind of DICOM image (its colour format or bit depth) cannot be analysed here.',
  DICOM_BAD_FRAME: 'The requested frame is not in this file.',
  DICOM_DECODE_FAILED: 'The image in this file could not be decompressed; the file may be damaged. Please export it again.',
  DICOM_UNREADABLE: 'This file could not be read as a DICOM file; it may be damaged.',
};
const CODE_WORDS = {
  E_DTYPE: 'This file could not be opened as an image. Please choose a DICOM (.dcm), JPEG or PNG file.',
  E_SHAPE: 'This image does not have the format the model expects.',
  E_IMAGE_PREPROCESSING: 'This image (a 16-bit PNG) cannot be given to this model as it was trained. Please export it as an 8-bit PNG or JPEG, or ask IT support to record how the model reads 16-bit images.',
  E_RANGE: 'This image does not have the format the model expects.',
  E_PEER_UNAVAILABLE: 'The analysis service cannot be reached at the moment. Please try again shortly; if this persists, contact IT support.',
  E_DEADLINE: 'The analysis took too long and was stopped. Please try again.',
  E_MODEL_MISMATCH: 'The analysis service is running a different model version than this page expects. Please contact IT support before relying on any result.',
  E_BUDGET_EXHAUSTED: 'This device has used up its privacy allowance for analyses. Please contact your administrator.',
  E_PRIVACY_POLICY: 'The analysis service does not release this kind of result. Please contact IT support.',
  E_UNAUTHENTICATED: 'This page is not authorised to use the analysis service. Please contact IT support.',
  E_FORBIDDEN: 'This page is not authorised to use the analysis service. Please contact IT support.',
  E_OVERLOADED: 'The analysis service is busy. Please try again in a minute.',
  E_QUOTA: 'Too many analyses are running from this device. Please wait for one to finish and try again.',
  E_RANGE_SENTINEL: 'This image is unlike the images the model was built on: the analysis was stopped because its result would be unreliable. Please check that the right kind of image was chosen.',
};
function inWords(e) {
  if (e?.name === 'AbortError') return 'Cancelled.';
  return DICOM_WORDS[e?.reason] ?? CODE_WORDS[e?.code] ?? 'The analysis could not be completed. Please try again; if it happens again, contact IT support.';
}

/**
 * Remove every trace of the previous result (label, probabilities, preview,
 * JSON) and hide it: called the moment a new file is chosen and on any error,
 * so an earlier patient's result is never on screen next to a new image.
 */
function clearResult() {
  $('result').hidden = true;
  $('label').textContent = '';
  $('label-probability').textContent = '';
  $('probs').tBodies[0].replaceChildren();
  $('meta').textContent = '';
  $('result-json').textContent = '';
  $('preview').hidden = true;
  for (const id of ['image', 'overlay']) { const c = $(id); c.width = 0; c.height = 0; }
  $('overlay').hidden = true;
  $('mask-controls').hidden = true;
  $('image-info').textContent = '';
  $('findings').hidden = true;
  $('findings').tBodies[0].replaceChildren();
  $('error-detail').hidden = true;
  $('error-detail').textContent = '';
}

/**
 * The image as it is displayed: a DICOM file with its own display transform
 * (modality LUT, window, MONOCHROME1 inverted; decodeDicom of the SDK, in this
 * page), a JPEG or PNG as the SDK decodes it (pixels as stored, a JPEG's Exif
 * orientation beside them: turned in orient() as the model records, so the
 * preview and a mask overlay show what the model was given). Returns RGBA
 * pixels and a line about the image (never a header field that identifies anyone).
 */
async function readImage(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (isDicom(bytes)) {
    const img = await decodeDicom(bytes);
    const n = img.width * img.height, rgba = new Uint8ClampedArray(n * 4);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) rgba[4 * i + c] = img.data[img.channels === 1 ? i : 3 * i + c];
      rgba[4 * i + 3] = 255;
    }
    const d = img.display, v = d.voi;
    const voi = v.kind === 'window' ? `window centre ${v.center}, width ${v.width}` : v.kind === 'voi-lut' ? 'the file\'s VOI LUT' : v.kind === 'pixel-range' ? `pixel range ${v.min} to ${v.max}` : 'colour';
    const info = `DICOM, ${img.width} × ${img.height}, ${d.photometric}${d.inverted ? ' (inverted for display)' : ''}, ${voi}${d.frames > 1 ? `, frame ${d.frame + 1} of ${d.frames}` : ''}.`;
    return { bytes, name: file.name, width: img.width, height: img.height, rgba, info };
  }
  const raw = await decodeImage(bytes); // InputError E_DTYPE when the browser cannot decode it
  const { width, height } = raw;
  const rgba = new Uint8ClampedArray(raw.data.buffer, raw.data.byteOffset, raw.data.length);
  return { bytes, name: file.name, width, height, rgba, orientation: raw.orientation, info: `${bytes[0] === 0x89 ? 'PNG' : 'JPEG'}, ${width} × ${height}.` };
}

/** A JPEG with an Exif orientation tag: the preview turned as the model's recorded orientation says ('exif' when it records none), and a line saying which. */
function orient(img, m) {
  if (!(img.orientation > 1)) return;
  const turn = (m?.preprocessing?.orientation ?? 'exif') === 'exif';
  if (turn) {
    const t = applyOrientation({ width: img.width, height: img.height, channels: 4, data: img.rgba }, img.orientation);
    Object.assign(img, { width: t.width, height: t.height, rgba: new Uint8ClampedArray(t.data.buffer) });
  }
  const recorded = m?.preprocessing?.orientation !== undefined;
  img.info += !turn ? ` It carries an Exif orientation tag (${img.orientation}); the model was trained on images as stored, so it was analysed (and is shown) as stored, not turned.`
    : ` Its Exif orientation tag (${img.orientation}) was applied (turned upright)${recorded ? ', as the model\'s training did.' : '; the model does not record whether its training did the same.'}`;
  img.orientation = undefined;
}

function drawImage(img) {
  const canvas = $('image');
  canvas.width = img.width;
  canvas.height = img.height;
  canvas.getContext('2d').putImageData(new ImageData(img.rgba, img.width, img.height), 0, 0);
  $('image-info').textContent = `${img.name}: ${img.info}`;
}

/** A segmentation mask [H, W, C] over the image (stretched as the model's resize squeezed the image), in red. */
function drawMask(mask) {
  const [h, w] = mask.shape;
  const canvas = $('overlay');
  canvas.width = w;
  canvas.height = h;
  const px = new Uint8ClampedArray(w * h * 4);
  // classes: a sigmoid mask's bits per element (HWC: a pixel is shown when any channel is positive), a softmax mask's class per pixel.
  const per = mask.classes.length / (w * h);
  for (let i = 0; i < w * h; i++) {
    if (!mask.classes.subarray(i * per, (i + 1) * per).some((b) => b !== 0)) continue;
    px[4 * i] = 239; px[4 * i + 1] = 68; px[4 * i + 2] = 68; px[4 * i + 3] = 255;
  }
  canvas.getContext('2d').putImageData(new ImageData(px, w, h), 0, 0);
  canvas.hidden = false;
  $('mask-controls').hidden = false;
  applyOpacity();
}

function applyOpacity() {
  const v = Number($('mask-opacity').value);
  $('overlay').style.opacity = String(v / 100);
  $('mask-opacity-value').textContent = `${v} %`;
}
$('mask-opacity').addEventListener('input', applyOpacity);

/** The probability of the predicted label (1 - p for the negative class of one sigmoid output). */
function labelProbability(r) {
  if (typeof r.probability === 'number') return r.probability;
  const p = r.probabilities;
  return p.length === 1 ? (r.index === 1 ? p[0] : 1 - p[0]) : p[r.index];
}

function showResult(img) {
  drawImage(img);
  $('preview').hidden = false;
  $('result').hidden = false;
}

function renderLabel(r, ms, img) {
  // Multi-label heads and masks decide inside the protocol too: per-label decisions, a thresholded mask.
  const text = r.decisions ? `${r.decisions.filter((d) => d.positive).map((d) => String(d.label)).join(', ') || 'no finding'} (decided inside the protocol)`
    : r.mask ? `mask ${r.mask.shape.join('x')}: ${(100 * r.mask.positiveFraction).toFixed(1)}% positive (thresholded inside the protocol)`
      : String(r.label);
  $('label').textContent = text + (r.confidenceBucket !== undefined ? ` (confidence bucket ${r.confidenceBucket} of ${r.model.privacy?.confidenceThresholds?.length ?? 0})` : '');
  $('probs').hidden = true;
  $('meta').textContent = `${describeModel(r.model)}. Session ${r.sessionId}, ${Math.round(ms)} ms.`;
  $('result-json').textContent = JSON.stringify({ outputMode: r.outputMode, kind: r.kind, label: r.label, index: r.index, ...(r.confidenceBucket !== undefined ? { confidenceBucket: r.confidenceBucket } : {}), ...(r.decisions ? { decisions: r.decisions } : {}), ...(r.mask ? { mask: { shape: r.mask.shape, positiveFraction: r.mask.positiveFraction } } : {}), sessionId: r.sessionId });
  showResult(img);
}

/** Several independent findings (sigmoid outputs): every one, most probable first, with its decision at 0.5. */
function renderFindings(r, ms, img) {
  const positives = r.findings.filter((f) => f.positive);
  $('label').textContent = positives.length ? `${positives.length} finding${positives.length > 1 ? 's' : ''} at or above 0.5` : 'no finding at or above 0.5';
  $('label-probability').textContent = `(most probable: ${r.findings[0].label}, ${(r.findings[0].probability * 100).toFixed(2)} %)`;
  $('probs').hidden = true;
  $('findings').hidden = false;
  $('findings').tBodies[0].replaceChildren(...r.findings.map((f) => {
    const tr = document.createElement('tr');
    const bar = Object.assign(document.createElement('div'), { className: 'bar' });
    bar.style.width = `${(f.probability * 100).toFixed(1)}%`;
    const cell = document.createElement('td');
    cell.style.width = '35%';
    cell.append(bar);
    tr.append(Object.assign(document.createElement('td'), { textContent: String(f.label) }),
      Object.assign(document.createElement('td'), { textContent: `${(f.probability * 100).toFixed(2)} %` }),
      Object.assign(document.createElement('td'), { textContent: f.positive ? 'positive' : 'negative', className: f.positive ? 'pos' : 'neg' }), cell);
    return tr;
  }));
  $('meta').textContent = `Each finding is decided on its own: positive when its probability is 0.5 or more. Model ${r.model.modelHash.slice(0, 12)}…, session ${r.sessionId}, ${Math.round(ms)} ms.`;
  $('result-json').textContent = JSON.stringify({ kind: r.kind, label: r.label, probability: r.probability, findings: r.findings, probabilities: r.probabilities, logits: r.logits, sessionId: r.sessionId });
  showResult(img);
}

/** A segmentation model: the mask over the image, with an opacity control. */
function renderMask(r, ms, img) {
  const m = r.mask;
  $('label').textContent = 'segmentation mask';
  $('label-probability').textContent = `(covers ${(m.positiveFraction * 100).toFixed(1)} % of the image at 0.5)`;
  $('probs').hidden = true;
  $('meta').textContent = `Red: pixels the model marks with probability 0.5 or more (${m.shape.join(' × ')} mask stretched over the image). Model ${r.model.modelHash.slice(0, 12)}…, session ${r.sessionId}, ${Math.round(ms)} ms.`;
  $('result-json').textContent = JSON.stringify({ kind: r.kind, shape: m.shape, positiveFraction: m.positiveFraction, positive: Array.from(m.classes).reduce((a, b) => a + (b ? 1 : 0), 0), sessionId: r.sessionId });
  showResult(img);
  drawMask(m);
}

function render(r, ms, img) {
  if (r.outputMode !== 'logits') { renderLabel(r, ms, img); return; }
  if (r.kind === 'multi-label') { renderFindings(r, ms, img); return; }
  if (r.kind === 'mask') { renderMask(r, ms, img); return; }
  $('probs').hidden = false;
  $('label').textContent = String(r.label);
  const p = labelProbability(r);
  $('label-probability').textContent = `(${(p * 100).toFixed(2)} %)`;
  const names = r.model.labels ?? [];
  // One sigmoid output: p is the positive class's (labels[1]) probability, 1 - p the negative's (labels[0]).
  const rows = r.probabilities.length === 1
    ? [[names[0] ?? 'class 0', 1 - r.probabilities[0]], [names[1] ?? 'class 1', r.probabilities[0]]]
    : r.probabilities.map((q, i) => [names[i] ?? `class ${i}`, q]);
  const body = $('probs').tBodies[0];
  body.replaceChildren(...rows.map(([name, p]) => {
    const tr = document.createElement('tr');
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = `${(p * 100).toFixed(1)}%`;
    tr.append(Object.assign(document.createElement('td'), { textContent: name }),
      Object.assign(document.createElement('td'), { textContent: `${(p * 100).toFixed(2)} %` }));
    const cell = document.createElement('td');
    cell.style.width = '50%';
    cell.append(bar);
    tr.append(cell);
    return tr;
  }));
  $('meta').textContent = `Model ${r.model.modelHash.slice(0, 12)}…, session ${r.sessionId}, ${Math.round(ms)} ms.`;
  $('result-json').textContent = JSON.stringify({ label: r.label, probability: p, probabilities: r.probabilities, logits: r.logits, sessionId: r.sessionId });
  showResult(img);
}

let client;
let model;
let running;

try {
  const res = await fetch('./config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const cfg = await res.json();
  client = new PrivateInferenceClient({
    parties: cfg.parties,
    token: cfg.token,
    ...(cfg.timeoutMs !== undefined ? { timeoutMs: cfg.timeoutMs } : {}),
    ...(cfg.expectedModelHash !== undefined ? { expectedModelHash: cfg.expectedModelHash } : {}),
  });
  $('file').disabled = false;
  setStatus('ready', 'Ready: choose an X-ray.');
  // What the model releases (logits or only a label); asked again at the first X-ray if the parties are not up yet.
  client.describe().then((m) => { model = m; setStatus('ready', `Ready: choose an X-ray. ${describeModel(m)}.`); }, () => {});
} catch (e) {
  setStatus('error', `Could not load ./config.json (${e.message}).`);
}

$('cancel').addEventListener('click', () => running?.abort());

$('file').addEventListener('change', () => run($('file').files?.[0]));

// Drop a file on the drop zone (or anywhere on the page).
for (const ev of ['dragenter', 'dragover']) document.addEventListener(ev, (e) => { e.preventDefault(); $('drop').classList.add('over'); });
document.addEventListener('dragleave', (e) => { if (e.target === $('drop') || e.relatedTarget === null) $('drop').classList.remove('over'); });
document.addEventListener('drop', (e) => {
  e.preventDefault();
  $('drop').classList.remove('over');
  const file = e.dataTransfer?.files?.[0];
  // The picker must not keep showing an earlier file's name next to this one's result.
  if (file && client) { $('file').value = ''; run(file); }
});

async function run(file) {
  // Whatever was on screen belongs to the previous file: gone at once, before anything else.
  running?.abort();
  running = undefined;
  clearResult();
  if (!file || !client) return;
  const ctl = new AbortController();
  running = ctl;
  document.body.dataset.state = 'running';
  clearResult();
  $('cancel').disabled = false;
  const t0 = performance.now();
  try {
    setStatus('reading', TEXT.reading);
    // Read here, on this device: a DICOM header never leaves the page; only the pixels go on to the SDK.
    const img = await readImage(file);
    if (running !== ctl) return;
    // Unknown policy (the parties were down at page load, or do not answer /v1/model): ask now; predict reports any error itself.
    model ??= await client.describe({ signal: ctl.signal }).catch(() => undefined);
    const r = await client.predict(img.bytes, { ...predictOptions(model), signal: ctl.signal, onProgress: (e) => setStatus(e.stage, TEXT[e.stage]) });
    if (running !== ctl) return;
    orient(img, r.model);
    render(r, performance.now() - t0, img);
    setStatus('done', r.kind === 'mask' ? 'Done: segmentation mask shown over the image.' : r.kind === 'multi-label' ? `Done: ${r.findings.filter((f) => f.positive).length} of ${r.findings.length} findings positive.` : `Done: ${r.label}.`);
    document.body.dataset.state = 'result';
  } catch (e) {
    if (running !== ctl) return;
    clearResult();
    setStatus('error', inWords(e));
    if (e?.name !== 'AbortError') {
      $('error-detail').textContent = `Technical detail for support: ${e?.code ?? e?.name ?? 'Error'}${e?.reason ? ` (${e.reason})` : ''}`;
      $('error-detail').hidden = false;
    }
    document.body.dataset.state = 'error';
  } finally {
    if (running === ctl) $('cancel').disabled = true;
  }
}
