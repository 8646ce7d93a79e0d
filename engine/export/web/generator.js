// RNN Studio's character generator in a web page: the model's arithmetic in plain JavaScript
// (like engine/native/lanes.c), the engine's sampling rules (engine/generator/sampling/sample.py).
// MODEL and WEIGHTS are written into the page by engine/export/web.py.
"use strict";

function halfToFloat(bits) {                 // IEEE 754 half -> number
  const s = bits & 0x8000 ? -1 : 1, e = (bits >> 10) & 0x1f, f = bits & 0x3ff;
  if (e === 0) return s * f * Math.pow(2, -24);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * Math.pow(2, e - 15);
}

function decodeWeights(b64, tensors) {       // base64 fp16 -> {name: Float32Array}
  const raw = atob(b64), n = raw.length / 2, out = {};
  const all = new Float32Array(n);
  for (let i = 0; i < n; i++) all[i] = halfToFloat(raw.charCodeAt(2 * i) | (raw.charCodeAt(2 * i + 1) << 8));
  for (const t of tensors) out[t.name] = all.subarray(t.offset, t.offset + t.size);
  return out;
}

// y[o] = b1[o] + b2[o] + sum_k W[o, k] x[k]  (W row-major, rows x cols)
function matvec(W, x, rows, cols, y) {
  for (let o = 0; o < rows; o++) {
    let acc = 0; const base = o * cols;
    for (let k = 0; k < cols; k++) acc += W[base + k] * x[k];
    y[o] = acc;
  }
}
const sigmoid = (v) => 1 / (1 + Math.exp(-v));

// One step of each cell (engine/generator/cells.py says what each computes). A new cell is one
// more entry here: its number of states and its step.
const CELLS = {
  lstm: { states: 2, step(L, x, st, H) {
    const gi = L.gi, gh = L.gh; matvec(L.wi, x, 4 * H, L.inSize, gi); matvec(L.wh, st[0], 4 * H, H, gh);
    const h = new Float64Array(H), c = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      const g = (b) => gi[b * H + j] + L.bi[b * H + j] + gh[b * H + j] + L.bh[b * H + j];
      const i = sigmoid(g(0)), f = sigmoid(g(1)), n = Math.tanh(g(2)), o = sigmoid(g(3));
      c[j] = f * st[1][j] + i * n; h[j] = o * Math.tanh(c[j]);
    }
    return [h, c];
  } },
  gru: { states: 1, step(L, x, st, H) {
    const gi = L.gi, gh = L.gh; matvec(L.wi, x, 3 * H, L.inSize, gi); matvec(L.wh, st[0], 3 * H, H, gh);
    const h = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      const a = (b) => gi[b * H + j] + L.bi[b * H + j], u = (b) => gh[b * H + j] + L.bh[b * H + j];
      const r = sigmoid(a(0) + u(0)), z = sigmoid(a(1) + u(1)), n = Math.tanh(a(2) + r * u(2));
      h[j] = (1 - z) * n + z * st[0][j];
    }
    return [h];
  } },
  rnn: { states: 1, step(L, x, st, H) {
    const gi = L.gi, gh = L.gh; matvec(L.wi, x, H, L.inSize, gi); matvec(L.wh, st[0], H, H, gh);
    const h = new Float64Array(H);
    for (let j = 0; j < H; j++) h[j] = Math.tanh(gi[j] + L.bi[j] + gh[j] + L.bh[j]);
    return [h];
  } },
};

class CharModel {
  constructor(model, weights) {
    this.m = model; this.cell = CELLS[model.mode]; const W = weights, H = model.hidden_size;
    this.ids = new Map(model.chars.map((c, i) => [c, i]));
    this.embed = W.embedding; this.dec = W.decoder_weight; this.decb = W.decoder_bias;
    const blocks = { lstm: 4, gru: 3, rnn: 1 }[model.mode];
    this.layers = [];
    for (let l = 0; l < model.num_layers; l++) {
      this.layers.push({ wi: W[`l${l}_i2h_weight`], wh: W[`l${l}_h2h_weight`], bi: W[`l${l}_i2h_bias`],
        bh: W[`l${l}_h2h_bias`], inSize: l === 0 ? model.embed_size : H,
        gi: new Float64Array(blocks * H), gh: new Float64Array(blocks * H) });
    }
  }
  begin() {
    const H = this.m.hidden_size;
    return this.layers.map(() => Array.from({ length: this.cell.states }, () => new Float64Array(H)));
  }
  // Feed one character id; returns [new state, logits of the next character].
  step(state, id) {
    const E = this.m.embed_size, H = this.m.hidden_size, V = this.m.vocab_size;
    let x = this.embed.subarray(id * E, (id + 1) * E);
    const next = [];
    for (let l = 0; l < this.layers.length; l++) {
      const st = this.cell.step(this.layers[l], x, state[l], H);
      next.push(st); x = st[0];
    }
    const logits = new Float64Array(V); matvec(this.dec, x, V, H, logits);
    for (let v = 0; v < V; v++) logits[v] += this.decb[v];
    return [next, logits];
  }
  unknown(text) { return [...new Set([...text].filter((c) => !this.ids.has(c)))]; }
}

function softmax(logits, invT) {
  let mx = -Infinity; for (const v of logits) mx = Math.max(mx, v * invT);
  const e = Array.from(logits, (v) => Math.exp(v * invT - mx)); const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

// The engine's filter_probs: top-k (ties at the k-th kept), then the smallest set holding top-p.
function filterProbs(probs, topK, topP) {
  const p = Float64Array.from(probs);
  if (topK > 0 && topK < p.length) {
    const kth = [...p].sort((a, b) => b - a)[topK - 1];
    for (let i = 0; i < p.length; i++) if (p[i] < kth) p[i] = 0;
  }
  if (topP < 1) {
    const order = [...p.keys()].sort((a, b) => p[b] - p[a] || a - b);
    const total = p.reduce((a, b) => a + b, 0); let before = 0;
    for (const i of order) { const v = p[i]; if (before >= topP * total) p[i] = 0; before += v; }
  }
  return p;
}

function mulberry32(seed) {                  // a small seeded generator: same seed, same text
  let a = seed >>> 0;
  return () => { a = (a + 0x6d2b79f5) >>> 0; let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

function draw(probs, rand, temperature, topK, topP) {
  if (temperature === 0) return probs.indexOf(Math.max(...probs));
  const p = filterProbs(probs, topK, topP); let cum = 0; const cums = Array.from(p, (v) => (cum += v));
  const r = rand() * cum; for (let i = 0; i < cums.length; i++) if (cums[i] > r) return i;
  return p.length - 1;
}

const MODEL_ = MODEL, NET = new CharModel(MODEL_, decodeWeights(WEIGHTS, MODEL_.tensors));
const $ = (id) => document.getElementById(id);
let running = 0;

function primeState(prime) {
  let state = NET.begin(), logits = null;
  for (const ch of prime) [state, logits] = NET.step(state, NET.ids.get(ch));
  return [state, logits];
}

function generate() {
  const run = ++running, prime = $("prime").value || MODEL_.default_prime;
  const T = Number($("temperature").value), topK = Number($("topk").value) || 0;
  const topP = Number($("topp").value) || 1, length = Math.max(0, Number($("length").value) | 0);
  const seed = Number($("seed").value) | 0, out = $("output"), msg = $("message");
  const unknown = NET.unknown(prime);
  if (unknown.length) { msg.textContent = "The prime text has characters the model has never seen: " + unknown.join(" "); return; }
  msg.textContent = ""; out.textContent = prime;
  const rand = mulberry32(seed), started = performance.now();
  let [state, logits] = primeState(prime), left = length;
  const chunk = () => {
    if (run !== running) return;
    const until = performance.now() + 30;      // write a few characters, then let the page draw
    let text = "";
    while (left > 0 && performance.now() < until) {
      const id = draw(softmax(logits, T === 0 ? 1 : 1 / T), rand, T, topK, topP);
      text += MODEL_.chars[id]; left--;
      if (left > 0) [state, logits] = NET.step(state, id);
    }
    out.textContent += text;
    if (!out.dataset.firstMs && text) out.dataset.firstMs = String(performance.now() - started);
    if (left > 0) setTimeout(chunk, 0); else out.dataset.done = "1";
  };
  chunk();
}

// The probabilities (temperature 1) of each next character as `text` is read after `prime`:
// what tests/test_web_export.py compares with the engine's.
function probe(prime, text) {
  let [state, logits] = primeState(prime); const rows = [softmax(logits, 1)];
  for (const ch of text) { [state, logits] = NET.step(state, NET.ids.get(ch)); rows.push(softmax(logits, 1)); }
  return rows;
}

function fromAddress() {
  const q = new URLSearchParams(location.hash.slice(1)); let any = false;
  for (const [key, id] of [["prime", "prime"], ["temperature", "temperature"], ["top_k", "topk"],
    ["top_p", "topp"], ["length", "length"], ["seed", "seed"]]) {
    if (q.has(key)) { $(id).value = q.get(key); any = true; }
  }
  if (q.has("probe")) { $("probe").textContent = JSON.stringify(probe(q.get("prime") || "", q.get("probe"))); return; }
  if (any) generate();
}

$("generate").addEventListener("click", generate);
$("link").addEventListener("click", () => {
  const q = new URLSearchParams({ prime: $("prime").value, temperature: $("temperature").value,
    top_k: $("topk").value, top_p: $("topp").value, length: $("length").value, seed: $("seed").value });
  location.hash = q.toString();
});
window.addEventListener("hashchange", fromAddress);
$("pageStarted").dataset.ms = String(performance.now());
fromAddress();
