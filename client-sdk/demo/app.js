// Demo page logic. Loads the SDK's browser bundle from ./sdk.js and the party
// URLs and token from ./config.json (both put there by P0's server).
import { PrivateInferenceClient } from './sdk.js';

const $ = (id) => document.getElementById(id);
const STAGES = ['encoding', 'uploading', 'computing', 'reconstructing', 'done'];
const TEXT = {
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

let previewUrl;

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
  $('preview').removeAttribute('src');
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = undefined;
}

/** The probability of the predicted label (1 - p for the negative class of one sigmoid output). */
function labelProbability(r) {
  if (typeof r.probability === 'number') return r.probability;
  const p = r.probabilities;
  return p.length === 1 ? (r.index === 1 ? p[0] : 1 - p[0]) : p[r.index];
}

function showResult(file) {
  previewUrl = URL.createObjectURL(file);
  $('preview').src = previewUrl;
  $('preview').hidden = false;
  $('result').hidden = false;
}

function renderLabel(r, ms, file) {
  $('label').textContent = String(r.label) + (r.confidenceBucket !== undefined ? ` (confidence bucket ${r.confidenceBucket} of ${r.model.privacy?.confidenceThresholds?.length ?? 0})` : '');
  $('probs').hidden = true;
  $('meta').textContent = `${describeModel(r.model)}. Session ${r.sessionId}, ${Math.round(ms)} ms.`;
  $('result-json').textContent = JSON.stringify({ outputMode: r.outputMode, label: r.label, index: r.index, ...(r.confidenceBucket !== undefined ? { confidenceBucket: r.confidenceBucket } : {}), sessionId: r.sessionId });
  showResult(file);
}

function render(r, ms, file) {
  if (r.outputMode !== 'logits') { renderLabel(r, ms, file); return; }
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
  showResult(file);
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

$('file').addEventListener('change', async () => {
  const file = $('file').files?.[0];
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
    // Unknown policy (the parties were down at page load, or do not answer /v1/model): ask now; predict reports any error itself.
    model ??= await client.describe({ signal: ctl.signal }).catch(() => undefined);
    const r = await client.predict(file, { ...predictOptions(model), signal: ctl.signal, onProgress: (e) => setStatus(e.stage, TEXT[e.stage]) });
    if (running !== ctl) return;
    render(r, performance.now() - t0, file);
    setStatus('done', `Done: ${r.label}.`);
    document.body.dataset.state = 'result';
  } catch (e) {
    if (running !== ctl) return;
    clearResult();
    setStatus('error', e?.name === 'AbortError' ? 'Cancelled.' : `${e?.code ?? e?.name ?? 'Error'}: ${e?.message ?? e}`);
    document.body.dataset.state = 'error';
  } finally {
    if (running === ctl) $('cancel').disabled = true;
  }
});
