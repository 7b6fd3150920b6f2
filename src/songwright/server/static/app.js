// Songwright's web page: a thin client of the HTTP API (no build step, no libraries).
"use strict";

const $ = (id) => document.getElementById(id);
const KEYS = ["C", "C#", "Db", "D", "Eb", "E", "F", "F#", "Gb", "G", "Ab", "A", "Bb", "B"];
const state = { job: null, abort: null, lines: [], objectUrls: [] };

function apiKey() { return $("api-key").value || localStorage.getItem("songwright-key") || ""; }
function headers(extra = {}) {
  const key = apiKey();
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}
async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers || {}) });
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) {
    const message = body?.error?.message || `${response.status} ${response.statusText}`;
    throw Object.assign(new Error(message), { field: body?.error?.field, status: response.status });
  }
  return body;
}
async function blobOf(path) {
  const response = await fetch(path, { headers: headers() });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.blob();
}

// ---------------------------------------------------------------- form set-up

async function setUp() {
  const health = await api("/health");
  if (health.auth_required) $("key-row").hidden = false;
  $("api-key").value = localStorage.getItem("songwright-key") || "";
  $("api-key").addEventListener("change", () => { localStorage.setItem("songwright-key", $("api-key").value); loadCatalogue(); });
  for (const tonic of KEYS) for (const mode of ["major", "minor"]) $("key").append(new Option(`${tonic} ${mode}`));
  document.querySelectorAll("[data-section]").forEach((button) =>
    button.addEventListener("click", () => insertSection(button.dataset.section)));
  $("song-form").addEventListener("submit", (event) => { event.preventDefault(); generate(); });
  $("cancel").addEventListener("click", () => state.job && api(`/v1/songs/${state.job}/cancel`, { method: "POST" }));
  $("waveform").addEventListener("click", seek);
  $("retake").addEventListener("click", () => editSong({ verb: "retake", section: Number($("edit-section").value) }));
  $("extend").addEventListener("click", () => editSong({ verb: "extend", duration_s: state.duration_s + 30 }));
  $("audio").addEventListener("timeupdate", highlightLine);
  window.addEventListener("resize", () => state.peaks && drawWaveform());
  await loadCatalogue();
}

async function loadCatalogue() {
  try {
    const [styles, voices, engines] = await Promise.all([api("/v1/styles"), api("/v1/voices"), api("/v1/engines")]);
    const chips = $("suggestions"), list = $("tag-list");
    chips.replaceChildren(); list.replaceChildren();
    for (const [group, cls] of [["genres", "genre"], ["moods", "mood"], ["instruments", "instrument"], ["vocals", "vocal"]]) {
      for (const item of styles[group]) {
        const chip = document.createElement("button");
        chip.type = "button"; chip.textContent = item.name; chip.className = cls;
        chip.addEventListener("click", () => addTag(item.name));
        chips.append(chip);
        list.append(new Option(item.name));
      }
    }
    const voice = $("voice"); voice.replaceChildren(new Option("auto", ""));
    for (const v of voices.voices.filter((v) => v.installed)) voice.append(new Option(`${v.name} – ${v.description}`, v.name));
    const engine = $("engine"); engine.replaceChildren();
    for (const e of engines.engines) {
      const option = new Option(e.name + (e.available ? "" : " (not available here)"), e.name);
      option.disabled = !e.available; engine.append(option);
    }
    await loadHistory();
  } catch (error) { showError(error); }
}

function addTag(name) {
  const tags = $("tags").value.split(",").map((t) => t.trim()).filter(Boolean);
  if (!tags.includes(name)) tags.push(name);
  $("tags").value = tags.join(", ");
}

function insertSection(name) {
  const box = $("lyrics"), at = box.selectionStart ?? box.value.length;
  const before = box.value.slice(0, at), after = box.value.slice(at);
  const text = (before && !before.endsWith("\n") ? "\n" : "") + `[${name}]\n`;
  box.value = before + text + after;
  box.focus(); box.selectionStart = box.selectionEnd = at + text.length;
}

function request() {
  const number = (id) => ($(id).value === "" ? null : Number($(id).value));
  return {
    tags: $("tags").value, lyrics: $("lyrics").value, duration_s: number("duration"), tempo_bpm: number("bpm"),
    key: $("key").value || null, time_signature: $("meter").value || null, seed: number("seed"),
    voice: $("voice").value || null, engine: $("engine").value || "composer", instrumental: $("instrumental").checked,
    chords: $("chords").value.trim() ? $("chords").value : null,
  };
}

function fillForm(req) {
  $("tags").value = req.tags ?? ""; $("lyrics").value = req.lyrics ?? "";
  $("duration").value = req.duration_s ?? 30; $("bpm").value = req.tempo_bpm ?? "";
  $("key").value = req.key ?? ""; $("meter").value = req.time_signature ?? ""; $("seed").value = req.seed ?? "";
  $("voice").value = req.voice ?? ""; $("engine").value = req.engine ?? "composer"; $("instrumental").checked = !!req.instrumental;
  $("chords").value = req.chords ?? "";
}

function showError(error) {
  const box = $("form-error");
  box.textContent = error ? error.message : ""; box.hidden = !error;
}

// ---------------------------------------------------------------- generate, progress

async function generate() { return submit("/v1/songs", request()); }

// An edit of the song shown: a new song, its source kept (POST /v1/songs/{id}/edits).
function editSong(edit) { return submit(`/v1/songs/${state.job}/edits`, edit); }

async function submit(path, body) {
  showError(null);
  $("generate").disabled = true;
  try {
    const job = await api(path, { method: "POST", headers: { "Content-Type": "application/json" },
                                  body: JSON.stringify(body) });
    state.job = job.id;
    $("player").hidden = true; $("empty").hidden = true; $("progress-box").hidden = false;
    setProgress(job);
    const final = await follow(job.id);
    $("progress-box").hidden = true;
    if (final.status === "succeeded") await showSong(await api(`/v1/songs/${job.id}`));
    else showError(new Error(final.status === "failed" ? `failed: ${final.error}` : final.status));
    loadHistory();
  } catch (error) { showError(error); $("progress-box").hidden = true; }
  finally { $("generate").disabled = false; }
}

function setProgress(view) {
  const percent = Math.round((view.progress || 0) * 100);
  $("progress-bar").style.width = `${percent}%`;
  $("progress-bar").setAttribute("aria-valuenow", String(percent));
  const where = view.status === "queued" && view.queue_position ? ` (place ${view.queue_position} in the queue)` : "";
  $("stage").textContent = `${view.stage || view.status}${where} · ${percent}%`;
}

// Server-sent events read through fetch, so the API key travels in a header.
async function follow(id) {
  const response = await fetch(`/v1/songs/${id}/events`, { headers: headers() });
  const reader = response.body.getReader(), decoder = new TextDecoder();
  let buffer = "", last = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1], data = /^data: (.*)$/m.exec(block)?.[1];
      if (!data) continue;
      last = JSON.parse(data); setProgress(last);
      if (event === "status") { reader.cancel(); return last; }
    }
  }
  return last || api(`/v1/songs/${id}`);
}

// ---------------------------------------------------------------- player

async function showSong(song) {
  state.job = song.id;
  const r = song.result;
  $("song-facts").innerHTML = "";
  const facts = [["tempo", r.tempo_bpm ? `${r.tempo_bpm} BPM` : "–"], ["key", r.key || "–"], ["meter", r.time_signature || "–"],
                 ["length", `${r.duration_s.toFixed(1)} s`], ["seed", r.seed], ["voice", r.voice || "–"]];
  facts.forEach(([name, value], i) => {
    $("song-facts").append(`${i ? " · " : ""}${name} `);
    const b = document.createElement("b"); b.textContent = value; $("song-facts").append(b);
  });
  state.objectUrls.forEach(URL.revokeObjectURL); state.objectUrls = [];
  const mp3 = await blobOf(`/v1/songs/${song.id}/audio?format=mp3`);
  const url = URL.createObjectURL(mp3); state.objectUrls.push(url);
  $("audio").src = url;
  $("player").hidden = false; $("empty").hidden = true;
  state.lines = r.files.lrc ? parseLrc(await (await blobOf(`/v1/songs/${song.id}/lrc`)).text()) : [];
  const list = $("lyric-lines"); list.replaceChildren();
  for (const line of state.lines) { const li = document.createElement("li"); li.textContent = line.text; list.append(li); }
  renderDownloads(song);
  state.duration_s = r.duration_s;
  const sections = $("edit-section"); sections.replaceChildren();
  r.sections.forEach((section, i) => {
    const option = document.createElement("option");
    option.value = String(i + 1); option.textContent = `${i + 1}. ${section.label} (${section.start_s.toFixed(0)} s)`;
    sections.append(option);
  });
  $("edit-box").hidden = !r.sections.length;
  try {
    const context = new (window.AudioContext || window.webkitAudioContext)();
    const audio = await context.decodeAudioData(await mp3.arrayBuffer());
    state.peaks = peaksOf(audio.getChannelData(0), 600); drawWaveform(); context.close();
  } catch (error) { state.peaks = null; }
}

function parseLrc(text) {
  const lines = [];
  for (const row of text.split("\n")) {
    const match = /^\[(\d+):(\d+(?:\.\d+)?)\](.*)$/.exec(row);
    if (match) lines.push({ start_s: Number(match[1]) * 60 + Number(match[2]), text: match[3].replace(/<[^>]*>/g, "").trim() });
  }
  return lines;
}

function highlightLine() {
  const t = $("audio").currentTime;
  let current = -1;
  state.lines.forEach((line, i) => { if (line.start_s <= t) current = i; });
  [...$("lyric-lines").children].forEach((li, i) => {
    const on = i === current;
    if (on && !li.classList.contains("current")) li.scrollIntoView({ block: "nearest" });
    li.classList.toggle("current", on);
  });
  if (state.peaks) drawWaveform();
}

function peaksOf(samples, count) {
  const size = Math.max(1, Math.floor(samples.length / count)), peaks = [];
  for (let i = 0; i < count; i++) {
    let peak = 0;
    for (let j = i * size; j < Math.min(samples.length, (i + 1) * size); j++) peak = Math.max(peak, Math.abs(samples[j]));
    peaks.push(peak);
  }
  return peaks;
}

function drawWaveform() {
  const canvas = $("waveform"), ratio = window.devicePixelRatio || 1;
  canvas.width = canvas.clientWidth * ratio; canvas.height = 96 * ratio;
  const g = canvas.getContext("2d"), w = canvas.width, h = canvas.height, peaks = state.peaks;
  const audio = $("audio"), played = audio.duration ? audio.currentTime / audio.duration : 0;
  g.clearRect(0, 0, w, h);
  const bar = w / peaks.length;
  peaks.forEach((peak, i) => {
    g.fillStyle = i / peaks.length < played ? "#22d3ee" : "#5b5f86";
    const height = Math.max(1, peak * (h - 6));
    g.fillRect(i * bar, (h - height) / 2, Math.max(1, bar - 0.5), height);
  });
}

function seek(event) {
  const audio = $("audio"), box = event.currentTarget.getBoundingClientRect();
  if (audio.duration) audio.currentTime = ((event.clientX - box.left) / box.width) * audio.duration;
}

function renderDownloads(song) {
  const box = $("downloads"); box.replaceChildren();
  const files = [["MP3", `audio?format=mp3`, "mp3"], ["WAV", `audio?format=wav`, "wav"], ["FLAC", `audio?format=flac`, "flac"]];
  if (song.result.files.stems) files.push(["Stems (zip)", "stems.zip", "zip"]);
  if (song.result.files.midi) files.push(["MIDI", "midi", "mid"]);
  if (song.result.files.lrc) files.push(["LRC", "lrc", "lrc"]);
  files.push(["JSON", "json", "json"]);
  for (const [label, path, suffix] of files) {
    const button = document.createElement("button");
    button.type = "button"; button.textContent = label; button.dataset.download = suffix;
    button.addEventListener("click", async () => {
      const url = URL.createObjectURL(await blobOf(`/v1/songs/${song.id}/${path}`));
      const a = document.createElement("a");
      a.href = url; a.download = `${song.id}${suffix === "zip" ? "-stems" : ""}.${suffix}`;
      document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    });
    box.append(button);
  }
}

// ---------------------------------------------------------------- history

async function loadHistory() {
  const page = await api("/v1/songs?limit=24");
  const list = $("history"); list.replaceChildren();
  for (const job of page.items) {
    const li = document.createElement("li");
    const when = new Date(job.created_at * 1000).toLocaleString();
    const req = job.request.song || job.request;  // an edit: its source's request
    const edits = (job.request.edits || []).map((e) => e.verb).join(", ");
    const tags = document.createElement("div"); tags.className = "tags"; tags.textContent = req.tags + (edits ? ` (${edits})` : "");
    const meta = document.createElement("div"); meta.className = "meta";
    const status = document.createElement("span"); status.className = `status-${job.status}`; status.textContent = job.status;
    meta.append(status, ` · ${req.duration_s} s · seed ${req.seed} · ${when}`);
    li.append(tags, meta); li.title = "load these settings";
    li.addEventListener("click", () => { fillForm(req); if (job.status === "succeeded") showSong(job); });
    list.append(li);
  }
  if (!page.items.length) list.innerHTML = '<li class="muted">No songs yet.</li>';
}

setUp().catch(showError);
