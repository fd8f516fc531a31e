// The what-if page: a form of levers over a scenario (or two, compared),
// kept in the address bar; runs through the server's API with progress
// streamed as server-sent events; the headline table and the report's
// charts (SVG drawn by the server, from the same summary as the report).
// Every value is checked by the server's validator, whose message is
// shown next to the field it names.

const boot = JSON.parse(document.getElementById('boot').textContent);
const LEVERS = boot.levers;
const RUN_LEVERS = boot.run;
const LEVER = new Map([...LEVERS, ...RUN_LEVERS].map(l => [l.path, l]));
const BUILTINS = new Map(boot.scenarios.map(s => [s.name, s]));
const SIDES = ['a', 'b'];
const uploads = new Map(); // id -> upload (as the API answers it)

const state = {
  sides: { a: newSide(), b: newSide() },
  params: { reps: '', years: '', seed: '', cohort: true },
  compare: false,
  result: '', // "run:ID" or "cmp:ID" shown
};

function newSide(scenario = 'default') {
  return { scenario, upload: '', population: '', practices: '', area: '', set: {} };
}

// Plain words for the choices the scenario file names in code.
const CHOICE_WORDS = {
  capitation: 'fair share (capitation)', historic: 'past spend (historic)', blend: 'moving from past spend to fair share',
  indicative: 'indicative budgets (commissioner carries overspends)', hard: 'hard budgets (holder carries overspends)',
  fundholding: 'fundholding (holder buys some care)', shared_savings: 'shared savings contract', none: 'none',
  supplied: 'groups given in the file', population: 'by population size', one: 'savings only (one-sided)', two: 'savings and losses (two-sided)',
  symmetric: 'losses mirror savings', asymmetric: 'losses set separately', first_pound: 'shared from the first pound once past the corridor',
  above_corridor: 'shared only above the corridor', medicare: 'sliding with population (Medicare’s table)',
  ae: 'A&E', elective: 'planned hospital care', emergency: 'emergency admissions', outpatient: 'outpatients', prescribing: 'prescribing', community: 'community care',
};
const words = c => CHOICE_WORDS[c] || String(c).replaceAll('_', ' ');

// ---- small helpers ----

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids.flat()) {
    if (c !== null && c !== undefined && c !== false) e.append(c);
  }
  return e;
}
const $ = id => document.getElementById(id);
const fieldId = (side, path) => `${side}--${path}`;
const errId = (side, path) => `err-${side}--${path}`;

const fmtPct = v => (v === null || v === undefined || Number.isNaN(v)) ? '–' : (100 * v).toFixed(1) + '%';
const fmtPounds = v => (v === null || v === undefined || Number.isNaN(v)) ? '–' : (v < 0 ? '−' : '') + '£' + Math.round(Math.abs(v)).toLocaleString('en-GB');
const fmtPP = v => (v === null || v === undefined) ? '–' : (v >= 0 ? '+' : '−') + (100 * Math.abs(v)).toFixed(1) + ' percentage points';
const fmtDiffPounds = v => (v === null || v === undefined) ? '–' : (v >= 0 ? '+' : '−') + '£' + Math.round(Math.abs(v)).toLocaleString('en-GB');
const fmtInt = v => Number(v).toLocaleString('en-GB');

async function api(method, url, body) {
  const opt = { method, headers: {} };
  if (body !== undefined) {
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  const res = await fetch(url, opt);
  let data = null;
  try { data = await res.json(); } catch { data = { error: `${res.status} ${res.statusText}` }; }
  return { ok: res.ok, status: res.status, data };
}

// ---- values ----

function baseOf(side) {
  const s = state.sides[side];
  if (s.upload) return uploads.get(s.upload)?.scenario || null;
  return BUILTINS.get(s.scenario) || null;
}

function valueOf(side, path) {
  const s = state.sides[side];
  if (Object.hasOwn(s.set, path)) return s.set[path];
  const b = baseOf(side);
  return b ? b.values[path] : null;
}

function same(a, b) {
  if (Array.isArray(a) || Array.isArray(b)) return (a || []).join(',') === (b || []).join(',');
  if (a === null || a === undefined || a === '') return b === null || b === undefined || b === '';
  if (typeof a === 'number' && typeof b === 'string') return String(a) === b.trim();
  return a === b;
}

// applies says whether a lever acts under a side's rule type.
function applies(side, l) { return !l.applies || l.applies.includes(valueOf(side, 'rule.type')); }

// sectionOn says whether an optional section is in a side's file: an
// implied one (a contract) exactly when the rule type calls for it.
function sectionOn(side, section) {
  const l = LEVER.get(section);
  if (l && l.implied) return applies(side, l);
  return !!valueOf(side, section);
}

// parse reads a control's text as the lever's kind: numbers as numbers
// where they are numbers (anything else goes to the server as written,
// for the validator to name), blank as null.
function parse(lever, raw) {
  if (lever.kind === 'number' || lever.kind === 'integer') {
    const t = String(raw).trim();
    if (t === '') return null;
    const n = readNumber(t);
    return n === null ? t : n;
  }
  return raw;
}

// readNumber reads a number as a person writes it: "0.7", "70%",
// "50,000"; null when it is not one (the server names what is wrong).
function readNumber(t) {
  let s = String(t).trim().replace(/^£/, '');
  let scale = 1;
  if (s.endsWith('%')) { s = s.slice(0, -1).trim(); scale = 100; }
  if (/^[-+]?\d{1,3}(,\d{3})+(\.\d*)?$/.test(s)) s = s.replaceAll(',', '');
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s)) return null;
  return Number(s) / scale;
}

function setValue(side, path, v) {
  const s = state.sides[side];
  const b = baseOf(side);
  if (b && same(v, b.values[path])) delete s.set[path];
  else s.set[path] = v;
}

// ---- the address bar ----

function toURL() {
  const q = new URLSearchParams();
  const sides = state.compare ? SIDES : ['a'];
  for (const side of sides) {
    const s = state.sides[side];
    if (s.upload) q.set(`${side}.u`, s.upload);
    else q.set(`${side}.s`, s.scenario);
    if (s.population) q.set(`${side}.pop`, s.population);
    if (s.population && s.practices) q.set(`${side}.pr`, s.practices);
    if (s.area) q.set(`${side}.area`, s.area);
    for (const [p, v] of Object.entries(s.set)) {
      q.set(`${side}.${p}`, v === null ? '' : Array.isArray(v) ? v.join(',') : String(v));
    }
  }
  for (const k of ['reps', 'years', 'seed']) if (state.params[k] !== '') q.set(k, state.params[k]);
  q.set('cohort', state.params.cohort ? '1' : '0');
  if (state.compare) q.set('compare', '1');
  if (state.result) q.set('result', state.result);
  const url = `${location.pathname}?${q}`;
  if (url !== location.pathname + location.search) history.replaceState(null, '', url);
}

function fromURL() {
  const q = new URLSearchParams(location.search);
  state.compare = q.get('compare') === '1';
  for (const side of SIDES) {
    const s = newSide(q.get(`${side}.s`) || 'default');
    s.upload = q.get(`${side}.u`) || '';
    s.population = q.get(`${side}.pop`) || '';
    s.practices = q.get(`${side}.pr`) || '';
    s.area = q.get(`${side}.area`) || '';
    for (const [k, v] of q) {
      if (!k.startsWith(side + '.')) continue;
      const path = k.slice(side.length + 1);
      const lever = LEVER.get(path);
      if (!lever) continue;
      if (lever.kind === 'bool' || lever.kind === 'section') s.set[path] = v === '1' || v === 'true';
      else if (lever.kind === 'streams') s.set[path] = v === '' ? [] : v.split(',');
      else if (lever.kind === 'choice') s.set[path] = v;
      else s.set[path] = v === '' ? null : parse(lever, v);
    }
    state.sides[side] = s;
  }
  for (const k of ['reps', 'years', 'seed']) state.params[k] = q.get(k) || '';
  state.params.cohort = q.get('cohort') !== '0';
  state.result = q.get('result') || '';
}

// ---- the form ----

function renderSides() {
  const box = $('sides');
  box.classList.toggle('two', state.compare);
  document.querySelector('main.layout').classList.toggle('compare', state.compare);
  box.replaceChildren(...(state.compare ? SIDES : ['a']).map(renderSide));
  refreshApplies();
}

// An area of England in place of the scenario's practices: its real
// practices, built into the server. Typing part of a name or code offers
// the server's matching areas (GET /api/areas) at the level chosen; the
// server looks up whatever is left typed, and says which area it found.
const LEVEL_WORDS = { icb: 'ICB', place: 'place', pcn: 'PCN', region: 'region' };
const areaLevels = { a: 'icb', b: 'icb' };

function areaField(side, s) {
  const level = el('select', { id: fieldId(side, 'area-level'), name: 'area-level' });
  for (const [v, t] of [['icb', 'ICB'], ['place', 'place (sub-ICB location)'], ['pcn', 'PCN (primary care network)'], ['region', 'region']]) level.append(el('option', { value: v, text: t }));
  level.value = areaLevels[side];
  const list = el('datalist', { id: `areas-${side}` });
  const hint = el('span', { class: 'hint', id: `hint-${side}--area`, text: 'type part of a name or a code, e.g. “Shropshire” or QOC; blank: the scenario’s own practices' });
  const inp = el('input', { type: 'text', id: fieldId(side, 'area'), name: 'area', list: list.id, value: s.area, autocomplete: 'off', size: 28,
    'aria-describedby': `${errId(side, 'area')} ${hint.id}` });
  let seq = 0, timer = 0;
  const suggest = async () => {
    const mine = ++seq;
    const q = new URLSearchParams({ level: level.value, q: inp.value.trim().replace(/\s*\([^()]*\)$/, '').slice(0, 100) });
    const res = await api('GET', `/api/areas?${q}`);
    if (mine !== seq || !res.ok) return;
    list.replaceChildren(...res.data.areas.map(a => el('option', { value: `${a.name} (${a.code})`, label: `${LEVEL_WORDS[a.level]} · ${fmtInt(a.patients)} patients` })));
  };
  inp.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(suggest, 150); });
  inp.addEventListener('focus', suggest);
  inp.addEventListener('change', () => {
    const v = inp.value.trim();
    const m = /\(([^()]+)\)$/.exec(v); // a suggestion: "Name (CODE)"
    s.area = m ? m[1] : v;
    changed();
  });
  level.addEventListener('change', () => { areaLevels[side] = level.value; suggest(); });
  return el('div', { class: 'field area-field', 'data-side': side, 'data-path': 'area' },
    el('label', { for: inp.id, text: 'Area of England (instead of the scenario’s practices)' }),
    el('span', { class: 'area-pick' }, inp, el('label', { class: 'sr-only', for: level.id, text: 'Suggest areas at level' }), level), list, hint,
    el('p', { class: 'field-error', id: errId(side, 'area'), role: 'alert' }));
}

function renderSide(side) {
  const s = state.sides[side];
  const fs = el('fieldset', { class: 'side', 'data-side': side, id: `side-${side}` });
  fs.append(el('legend', { text: state.compare ? `Setting ${side.toUpperCase()}` : 'Setting' }));

  const sel = el('select', { id: fieldId(side, 'scenario'), name: 'scenario', 'aria-describedby': errId(side, 'scenario') });
  for (const b of BUILTINS.values()) sel.append(el('option', { value: b.name, text: b.name.replaceAll('-', ' ') }));
  for (const up of uploads.values()) {
    if (up.kind === 'scenario') sel.append(el('option', { value: 'upload:' + up.id, text: `${up.scenario.name} (uploaded ${up.name})` }));
  }
  sel.value = s.upload ? 'upload:' + s.upload : s.scenario;
  sel.addEventListener('change', () => {
    const v = sel.value;
    const next = newSide();
    next.population = s.population;
    next.practices = s.practices;
    next.area = s.area;
    if (v.startsWith('upload:')) next.upload = v.slice(7);
    else next.scenario = v;
    state.sides[side] = next;
    const b = baseOf(side);
    if (side === 'a' && b) {
      state.params.reps = String(b.reps);
      state.params.years = String(b.years);
      state.params.seed = String(b.seed);
      if (b.values.stop_loss) state.params.cohort = false;
      renderRun();
    }
    changed(true);
  });
  const file = el('input', { type: 'file', id: fieldId(side, 'file'), accept: '.yaml,.yml,.csv,text/yaml,text/csv', class: 'file' });
  file.addEventListener('change', () => uploadFile(side, file));
  fs.append(el('div', { class: 'field scenario-field', 'data-side': side, 'data-path': 'scenario' },
    el('label', { for: sel.id, text: 'Scenario' }), sel,
    el('label', { class: 'upload', for: file.id, title: 'A scenario file (YAML) or an NHS Digital “Patients Registered at a GP Practice” file (CSV)' }, 'Upload a scenario or list-size file…', file),
    el('p', { class: 'field-error', id: errId(side, 'scenario'), role: 'alert' }),
    el('p', { class: 'field-error', id: errId(side, 'upload'), role: 'alert' })));
  const b = baseOf(side);
  fs.append(el('p', { class: 'desc', text: b ? b.description : '' }));

  if (!s.population) fs.append(areaField(side, s));
  if (s.population) {
    const up = uploads.get(s.population);
    const pr = el('input', { type: 'text', id: fieldId(side, 'practices'), value: s.practices, placeholder: 'all practices', 'aria-describedby': errId(side, 'practices') });
    pr.addEventListener('change', () => { s.practices = pr.value.trim(); changed(); });
    const drop = el('button', { type: 'button', class: 'link', text: 'use the scenario’s own practices' });
    drop.addEventListener('click', () => { s.population = ''; s.practices = ''; changed(true); });
    fs.append(el('div', { class: 'field population', 'data-side': side, 'data-path': 'population' },
      el('p', {}, up ? `Practices from ${up.name}: ${fmtInt(up.practices)} practices, ${fmtInt(up.patients)} patients. ` : `List-size file ${s.population}. `, drop),
      el('p', { class: 'field-error', id: errId(side, 'population'), role: 'alert' }),
      el('label', { for: pr.id, text: 'Only these practice or commissioner codes' }), pr,
      el('span', { class: 'hint', text: 'comma-separated, e.g. A81001,A81002 (blank: every practice in the file)' }),
      el('p', { class: 'field-error', id: errId(side, 'practices'), role: 'alert' })));
  }

  let group = '';
  let box = null;
  for (const l of LEVERS) {
    if (l.implied) continue; // on with its rule type, no switch of its own
    if (l.group !== group) {
      group = l.group;
      box = el('div', { class: 'group' }, el('h3', { text: group }));
      fs.append(box);
    }
    box.append(renderLever(side, l));
  }
  fs.append(el('p', { class: 'error-box', id: `side-error-${side}`, role: 'alert', hidden: true }));
  fs.append(el('p', { class: 'size', id: `size-${side}` }));
  return fs;
}

function hintText(l) {
  const parts = [];
  if (l.unit) parts.push(l.unit);
  const share = /^share|fraction/.test(l.unit || '') && l.max !== undefined && l.max <= 10;
  if (share && l.range) {
    const pct = v => `${+(100 * v).toFixed(4)}%`;
    parts.push(l.min !== undefined ? `accepted ${pct(l.min)} to ${pct(l.max)} (or ${l.range})` : `accepted up to ${pct(l.max)}`);
  } else if (l.range) parts.push('accepted ' + l.range);
  return parts.join(' · ');
}

function renderLever(side, l) {
  const id = fieldId(side, l.path);
  const v = valueOf(side, l.path);
  const wrap = el('div', { class: `field kind-${l.kind}`, 'data-side': side, 'data-path': l.path });
  if (l.section) wrap.dataset.section = l.section;
  const label = l.kind === 'streams' ? el('span', { class: 'label', id: `label-${id}`, text: l.label }) : el('label', { for: id, text: l.label });
  if (state.compare) label.append(el('span', { class: 'sr-only', text: ` (setting ${side.toUpperCase()})` }));
  const err = el('p', { class: 'field-error', id: errId(side, l.path), role: 'alert' });
  const hint = el('span', { class: 'hint', id: `hint-${side}--${l.path}`, text: hintText(l) });
  const desc = about(l.description, l.label);
  let control;
  switch (l.kind) {
    case 'choice':
      control = el('select', { id, name: l.path });
      for (const c of l.choices) control.append(el('option', { value: c, text: c === '' ? l.blank : words(c) }));
      control.value = v ?? '';
      control.addEventListener('change', () => { setValue(side, l.path, control.value); changed(); });
      break;
    case 'bool':
    case 'section':
      control = el('input', { type: 'checkbox', id, name: l.path });
      control.checked = !!v;
      control.addEventListener('change', () => {
        setValue(side, l.path, control.checked);
        if (l.kind === 'section' && control.checked) {
          // A new section's lists start full, so that turning it on does
          // something once its amount is set.
          for (const o of LEVERS) {
            if (o.section === l.path && o.kind === 'streams' && !valueOf(side, o.path)) setValue(side, o.path, [...o.choices]);
          }
          rerenderSide(side);
        } else if (l.kind === 'section') {
          rerenderSide(side);
        }
        changed();
      });
      wrap.append(...[control, label, desc, hint, err].filter(Boolean));
      return wrap;
    case 'streams': {
      control = el('div', { class: 'streams', id, role: 'group', 'aria-labelledby': `label-${id}` });
      const cur = new Set(v || []);
      for (const c of l.choices) {
        const cb = el('input', { type: 'checkbox', value: c, id: `${id}--${c}` });
        cb.checked = cur.has(c);
        cb.addEventListener('change', () => {
          const picked = [...control.querySelectorAll('input:checked')].map(x => x.value);
          setValue(side, l.path, picked);
          changed();
        });
        control.append(el('label', { class: 'stream' }, cb, ' ' + words(c)));
      }
      break;
    }
    default:
      control = el('input', { type: 'text', id, name: l.path, inputmode: l.kind === 'integer' ? 'numeric' : 'decimal',
        value: v === null || v === undefined ? '' : String(v), placeholder: l.section ? 'none' : '', size: 10 });
      control.addEventListener('input', () => {
        setValue(side, l.path, parse(l, control.value));
        if (l.clears) {
          // As in a file: a rate given without a table replaces the table.
          setValue(side, l.clears, '');
          const sel = $(fieldId(side, l.clears));
          if (sel) sel.value = '';
        }
        changed();
      });
  }
  control.setAttribute('aria-describedby', `${err.id} ${hint.id}`);
  wrap.append(...[label, control, desc, hint, err].filter(Boolean));
  return wrap;
}

// about is a lever's description, opened by clicking or tapping its mark
// or moving to it with the keyboard, and closed the same way (or Escape).
let aboutSeq = 0;
function about(text, label) {
  if (!text) return null;
  const id = `about-${++aboutSeq}`;
  const tip = el('span', { class: 'tip', id, role: 'note', hidden: true, text });
  const btn = el('button', { type: 'button', class: 'about', 'aria-expanded': 'false', 'aria-controls': id, 'aria-label': `About ${label || 'this'}`, text: '?' });
  const set = open => { tip.hidden = !open; btn.setAttribute('aria-expanded', String(open)); };
  btn.addEventListener('click', () => set(tip.hidden));
  btn.addEventListener('focus', () => set(true));
  btn.addEventListener('blur', () => set(false));
  btn.addEventListener('keydown', ev => { if (ev.key === 'Escape') set(false); });
  const box = el('span', { class: 'about-box' }, btn, tip);
  return box;
}

function rerenderSide(side) {
  const old = $(`side-${side}`);
  if (old) old.replaceWith(renderSide(side));
  refreshApplies();
}

// refreshApplies dims levers that do nothing under a side's rule type, and
// hides a section's fields while it is off.
function refreshApplies() {
  for (const wrap of document.querySelectorAll('.side .field[data-path]')) {
    const side = wrap.dataset.side;
    const l = LEVER.get(wrap.dataset.path);
    if (!l) continue;
    const rule = valueOf(side, 'rule.type');
    const on = applies(side, l);
    wrap.classList.toggle('inapplicable', !on);
    wrap.title = on ? '' : `Does nothing under the rule chosen (${words(rule)}); it acts under ${l.applies.map(words).join(' or ')}`;
    if (l.section) wrap.hidden = !sectionOn(side, l.section);
  }
}

function renderRun() {
  const box = $('run-fields');
  box.replaceChildren();
  const b = baseOf('a');
  for (const l of RUN_LEVERS) {
    const id = fieldId('run', l.path);
    const err = el('p', { class: 'field-error', id: errId('run', l.path), role: 'alert' });
    const hint = el('span', { class: 'hint', id: `hint-run--${l.path}`, text: hintText(l) });
    const wrap = el('div', { class: `field kind-${l.kind}`, 'data-side': 'run', 'data-path': l.path });
    const label = el('label', { for: id, text: l.label });
    if (l.kind === 'bool') {
      const cb = el('input', { type: 'checkbox', id, name: l.path, 'aria-describedby': err.id });
      cb.checked = state.params.cohort;
      cb.addEventListener('change', () => { state.params.cohort = cb.checked; changed(); });
      wrap.append(...[cb, label, about(l.description, l.label), err].filter(Boolean));
    } else {
      if (state.params[l.path] === '' && b) state.params[l.path] = String(b[l.path]);
      const inp = el('input', { type: 'text', id, name: l.path, inputmode: 'numeric', value: state.params[l.path], size: l.path === 'seed' ? 14 : 6, 'aria-describedby': `${err.id} ${hint.id}` });
      inp.addEventListener('input', () => { state.params[l.path] = inp.value.trim(); changed(); });
      wrap.append(...[label, inp, about(l.description, l.label), hint, err].filter(Boolean));
    }
    box.append(wrap);
  }
}

// ---- requests ----

function sideRequest(side) {
  const s = state.sides[side];
  const req = {};
  if (s.upload) req.upload = s.upload; else req.scenario = s.scenario;
  if (s.population) {
    req.population = s.population;
    if (s.practices) req.practices = s.practices;
  }
  if (s.area && !s.population) req.area = s.area;
  const set = {};
  for (const [p, v] of Object.entries(s.set)) {
    const l = LEVER.get(p);
    if (l && l.section && !sectionOn(side, l.section)) continue;
    set[p] = (l && l.kind === 'section' && !v) ? null : v;
  }
  // What the validator refuses under this rule type (a contract under
  // hard budgets, a fund's streams under indicative ones) leaves the file,
  // as a person editing it would remove it.
  const base = baseOf(side);
  for (const l of LEVERS) {
    if (!l.exclusive || applies(side, l)) continue;
    const key = l.section && LEVER.get(l.section)?.implied ? l.section : l.path;
    for (const p of Object.keys(set)) if (p === key || p.startsWith(key + '.')) delete set[p];
    const inBase = base && base.values[key];
    if (inBase && !(Array.isArray(inBase) && inBase.length === 0)) set[key] = null;
  }
  if (Object.keys(set).length) req.set = set;
  return req;
}

function paramsRequest() {
  const p = {};
  for (const k of ['reps', 'years']) {
    const t = state.params[k];
    if (t !== '') { const n = readNumber(t); p[k] = n === null ? t : n; }
  }
  if (state.params.seed !== '') p.seed = state.params.seed; // as text: seeds pass 2^53
  p.cohort = state.params.cohort;
  return p;
}

// settingsKey is a canonical text of what a run or comparison was asked
// to do: the page's settings now, or a job's as the server kept them. A
// result is shown as current, and its id kept in the address, only while
// the two agree.
function settingsKey(compare, sides, params) {
  const side = s => {
    const set = Object.entries(s.set || {}).map(([k, v]) => [k, v === null ? '' : Array.isArray(v) ? v.join(',') : String(v)]).sort();
    return [s.upload ? 'u:' + s.upload : 's:' + (s.scenario || 'default'), s.population || '', s.population ? (s.practices || '') : '', s.area || '', set];
  };
  return JSON.stringify([compare, sides.map(side), String(params.reps ?? ''), String(params.years ?? ''), String(params.seed ?? ''), !!params.cohort]);
}

function pageKey() {
  const sides = (state.compare ? SIDES : ['a']).map(sideRequest);
  return settingsKey(state.compare, sides, paramsRequest());
}

// jobKey is a finished job's settings (null: a scenario sent as text,
// which the page cannot hold).
function jobKey(j) {
  const r = j.request || {};
  const sides = j.kind === 'comparison' ? [r.a || {}, r.b || {}] : [r];
  if (sides.some(s => s.scenario_sha256)) return null;
  return settingsKey(j.kind === 'comparison', sides, { reps: j.reps, years: j.years, seed: j.seed, cohort: j.cohort });
}

// markStale says the result shown is not of the settings on the form.
function markStale(why) {
  const out = $('outcome');
  out.classList.add('stale');
  let note = $('stale-note');
  if (!note) {
    note = el('p', { id: 'stale-note', class: 'stale-note', role: 'status' });
    out.prepend(note);
  }
  note.textContent = why;
}

function clearErrors() {
  for (const e of document.querySelectorAll('.field-error')) e.textContent = '';
  for (const e of document.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
  for (const e of document.querySelectorAll('.field.invalid')) e.classList.remove('invalid');
  for (const side of SIDES) { const b = $(`side-error-${side}`); if (b) { b.hidden = true; b.textContent = ''; } }
  $('run-error').hidden = true;
}

// showErrors puts each error next to its field: a lever's, a run
// setting's, or the side's scenario; what has no field on the page goes
// in the side's (or the run's) error box, whole.
function showErrors(data, side) {
  const errs = data.errors && data.errors.length ? data.errors : [{ field: data.field, message: data.message || data.error, error: data.error }];
  for (const e of errs) {
    const f = e.field || '';
    const s = ['reps', 'years', 'seed', 'cohort'].includes(f) ? 'run' : (data.side || side || 'a');
    const slot = $(errId(s, f));
    if (slot) {
      slot.textContent = e.message || e.error;
      slot.title = e.error;
      const wrap = slot.closest('.field');
      if (wrap) {
        wrap.classList.add('invalid');
        wrap.hidden = false;
      }
      const ctl = $(fieldId(s, f));
      if (ctl) ctl.setAttribute('aria-invalid', 'true');
    } else {
      const box = s === 'run' ? $('run-error') : $(`side-error-${s}`);
      if (box) {
        box.textContent = (box.textContent ? box.textContent + '\n' : '') + e.error;
        box.hidden = false;
      }
    }
  }
}

let validateTimer = 0;
let validateSeq = 0;

function changed(rerender = false) {
  if (rerender) renderSides();
  else refreshApplies();
  if (state.result || state.running || !$('outcome').hidden) {
    // The results shown (or coming) are of the settings before this change.
    state.result = '';
    if (!$('outcome').hidden) markStale('Out of date: the settings have changed since these results were made. Press Run to update them.');
  }
  toURL();
  clearTimeout(validateTimer);
  validateTimer = setTimeout(validateNow, 250);
}

async function validateNow() {
  const seq = ++validateSeq;
  const sides = state.compare ? SIDES : ['a'];
  const answers = await Promise.all(sides.map(side => api('POST', '/api/validate', { ...sideRequest(side), ...paramsRequest() })));
  if (seq !== validateSeq) return; // a later change answers instead
  clearErrors();
  let ok = true;
  answers.forEach((res, i) => {
    const side = sides[i];
    const size = $(`size-${side}`);
    if (res.ok) {
      const d = res.data;
      if (size) size.textContent = `${d.area ? `${d.area.name} (${LEVEL_WORDS[d.area.level] || d.area.level} ${d.area.code}): ` : ''}${fmtInt(d.practices)} practices, ${fmtInt(d.patients)} patients; ${fmtInt(d.reps)} replications of ${d.years} years.`;
      const hint = $('hint-run--reps');
      if (hint && i === 0) hint.textContent = `chance worlds simulated · accepted 1 to ${fmtInt(d.max_reps)} for this area`;
      state.yaml = state.yaml || {};
      state.yaml[side] = d.yaml;
    } else {
      ok = false;
      if (size) size.textContent = '';
      showErrors(res.data, side);
    }
  });
  $('run').disabled = !ok || !!state.running;
  if (!state.running) $('state').textContent = ok ? 'Ready.' : 'Fix the value marked in red to run.';
  return ok;
}

// ---- uploads ----

async function uploadFile(side, input) {
  const f = input.files && input.files[0];
  if (!f) return;
  const kind = /\.csv$/i.test(f.name) ? 'population' : 'scenario';
  clearErrors();
  // A check still under way answers for the settings before the file: it
  // must not say Ready while the file is checked (and drawn) after it.
  clearTimeout(validateTimer);
  validateSeq++;
  $('state').textContent = `Checking ${f.name}…`;
  const res = await fetch(`/api/uploads?kind=${kind}&name=${encodeURIComponent(f.name)}`, { method: 'POST', body: f, headers: { 'Content-Type': 'application/octet-stream' } });
  let data;
  try { data = await res.json(); } catch { data = { error: `${res.status} ${res.statusText}` }; }
  input.value = '';
  if (!res.ok) {
    const slot = $(errId(side, 'upload'));
    slot.textContent = data.error;
    $('state').textContent = 'The file was not accepted.';
    return;
  }
  uploads.set(data.id, data);
  const s = state.sides[side];
  if (data.kind === 'scenario') {
    state.sides[side] = { ...newSide(), upload: data.id, population: s.population, practices: s.practices };
    if (side === 'a') {
      state.params.reps = String(data.scenario.reps);
      state.params.years = String(data.scenario.years);
      state.params.seed = String(data.scenario.seed);
      renderRun();
    }
  } else {
    s.population = data.id;
    s.practices = '';
  }
  changed(true);
}

// ---- running ----

async function run(ev) {
  ev.preventDefault();
  if (state.running) return;
  clearErrors();
  const compare = state.compare;
  const body = compare ? { a: sideRequest('a'), b: sideRequest('b'), ...paramsRequest() } : { ...sideRequest('a'), ...paramsRequest() };
  $('run').disabled = true;
  const started = performance.now();
  const key = pageKey();
  const res = await api('POST', compare ? '/api/comparisons' : '/api/runs', body);
  if (!res.ok) {
    $('run').disabled = false;
    if (res.status === 400) {
      showErrors(res.data, res.data.side);
      $('state').textContent = 'Fix the value marked in red to run.';
    } else {
      $('run-error').textContent = res.data.error;
      $('run-error').hidden = false;
      $('state').textContent = 'Not run.';
    }
    return;
  }
  follow(compare ? 'comparison' : 'run', res.data.id, started, key);
}

function follow(kind, id, started, key) {
  const base = kind === 'run' ? '/api/runs/' : '/api/comparisons/';
  state.running = { kind, id, started, key };
  $('cancel').hidden = false;
  $('run').disabled = true;
  const bar = $('progress');
  bar.hidden = false;
  bar.value = 0;
  $('state').textContent = 'Queued…';
  document.body.dataset.running = id;
  const es = new EventSource(base + id + '/events');
  let ended = false;
  es.addEventListener('progress', ev => {
    const d = JSON.parse(ev.data);
    bar.value = d.progress;
    $('state').textContent = d.status === 'queued' ? 'Waiting for another run to finish…' : `${d.stage[0].toUpperCase()}${d.stage.slice(1)}… ${Math.round(100 * d.progress)}%`;
  });
  es.addEventListener('end', ev => {
    ended = true;
    es.close();
    finished(kind, JSON.parse(ev.data));
  });
  es.onerror = () => {
    if (ended) return;
    es.close();
    poll(kind, id);
  };
}

// poll follows a run whose event stream broke (a proxy, a sleeping laptop).
async function poll(kind, id) {
  const base = kind === 'run' ? '/api/runs/' : '/api/comparisons/';
  for (let misses = 0; misses < 120;) {
    try {
      const res = await api('GET', base + id);
      if (res.ok && ['done', 'failed', 'cancelled'].includes(res.data.status)) return finished(kind, res.data);
      if (res.ok) $('progress').value = res.data.progress;
      misses = 0;
    } catch {
      misses++;
      $('state').textContent = 'The server does not answer; still trying…';
    }
    await new Promise(r => setTimeout(r, 500));
  }
  finished(kind, { status: 'failed', error: 'the server stopped answering; the run may still finish: see Recent runs when it is back' });
}

async function cancel() {
  if (!state.running) return;
  const { kind, id } = state.running;
  $('state').textContent = 'Cancelling…';
  await api('DELETE', (kind === 'run' ? '/api/runs/' : '/api/comparisons/') + id);
}

async function finished(kind, st) {
  const started = state.running ? state.running.started : performance.now();
  const key = state.running ? state.running.key : jobKey(st);
  state.running = null;
  delete document.body.dataset.running;
  $('cancel').hidden = true;
  $('progress').hidden = true;
  if (st.status !== 'done') {
    $('run-error').textContent = st.status === 'cancelled' ? `Cancelled. ${st.error || ''}` : `The run failed: ${st.error}`;
    $('run-error').hidden = false;
    $('state').textContent = st.status === 'cancelled' ? 'Cancelled.' : 'Failed.';
    validateNow();
    return;
  }
  await show(kind, st);
  const ms = Math.round(performance.now() - started);
  $('outcome').dataset.ms = ms;
  $('state').textContent = `Done in ${(ms / 1000).toFixed(1)} s.`;
  if (key !== null && key === pageKey()) {
    state.result = (kind === 'run' ? 'run:' : 'cmp:') + st.id;
  } else {
    // Settings changed while it ran: the result is of the settings when
    // Run was pressed, and the address keeps the settings without it.
    state.result = '';
    markStale('Out of date: the settings were changed while this ran, so these results are for the settings as they were when Run was pressed. Press Run to update them.');
  }
  toURL();
  validateNow();
}

// ---- results ----

async function show(kind, st) {
  const out = $('outcome');
  if (kind === 'run') {
    const charts = (await api('GET', `/api/runs/${st.id}/charts`)).data;
    out.replaceChildren(...runView(st, charts).filter(Boolean));
  } else {
    const [a, b, charts] = await Promise.all([
      api('GET', `/api/runs/${st.runs[0]}`), api('GET', `/api/runs/${st.runs[1]}`), api('GET', `/api/comparisons/${st.id}/charts`)]);
    const [ca, cb] = await Promise.all([api('GET', `/api/runs/${st.runs[0]}/charts`), api('GET', `/api/runs/${st.runs[1]}/charts`)]);
    out.replaceChildren(...compareView(st, a.data, b.data, charts.data, ca.data, cb.data));
  }
  out.dataset.kind = kind;
  out.dataset.id = st.id;
  out.classList.remove('stale');
  out.hidden = false;
  $('placeholder').hidden = true;
}

function facts(h, name) {
  return `${name || h.scenario}: ${fmtInt(h.replications)} chance worlds of ${h.years} years, ${fmtInt(h.practices)} practices (${fmtInt(h.patients)} patients), random seed ${h.seed}${h.cohort ? ', fast mode' : ', patient by patient'}.`;
}

// lastYear is the last year's line of a headline (a stock such as deficits
// carried is read at the end, not added over the years).
const lastYear = h => (h.by_year && h.by_year.length ? h.by_year[h.by_year.length - 1] : {});

function cell(text, value, cls) {
  return el('td', { 'data-value': value === undefined || value === null ? '' : String(value), class: cls, text });
}

// holderBands maps a headline's bands to their chances after pooling.
const holderBands = h => new Map(((h.holders && h.holders.bands) || []).map(x => [x.band, x]));
const fmtSE = se => (se === null || se === undefined || Number.isNaN(se)) ? '' : ` ± ${(100 * se).toFixed(1)}`;
const fmtReserve = (h, i, v) => {
  const r = h.holders && h.holders.reserves && h.holders.reserves[i];
  return fmtPounds(v) + (r ? ` (${fmtPounds(r.low)} to ${fmtPounds(r.high)})` : '');
};

function runView(st, charts) {
  const h = st.summary;
  const after = holderBands(h);
  const head = el('table', { class: 'headline', id: 'headline', 'data-run': st.id },
    el('caption', { text: 'Chance that a practice overspends its budget by more than 5% or 10% in a year, by list size: against its budget (before any risk pool or consortium pays), and what it must still find itself after any pool or consortium has paid. ± is the uncertainty from chance (one standard error, in percentage points).' }),
    el('thead', {}, el('tr', {}, ...['patients', 'practices', 'over by >5% of budget', 'over by >10% of budget', 'after any pool: must find >5%', 'after any pool: must find >10%', 'under by >5%', 'under by >10%'].map(t => el('th', { scope: 'col', text: t })))),
    el('tbody', {}, ...h.bands.map(b => el('tr', { 'data-band': b.band, class: b.band === 'all' ? 'total' : '' },
      el('th', { scope: 'row', text: b.band === 'all' ? 'all practices' : b.band }),
      cell(fmtInt(b.practices), b.practices),
      cell(fmtPct(b.p_over_5) + fmtSE(after.get(b.band)?.p_over_5_se), b.p_over_5, 'key'), cell(fmtPct(b.p_over_10) + fmtSE(after.get(b.band)?.p_over_10_se), b.p_over_10),
      cell(fmtPct(after.get(b.band)?.p_over_5_after) + fmtSE(after.get(b.band)?.p_over_5_after_se), after.get(b.band)?.p_over_5_after, 'key after'),
      cell(fmtPct(after.get(b.band)?.p_over_10_after) + fmtSE(after.get(b.band)?.p_over_10_after_se), after.get(b.band)?.p_over_10_after),
      cell(fmtPct(b.p_under_5) + fmtSE(after.get(b.band)?.p_under_5_se), b.p_under_5), cell(fmtPct(b.p_under_10) + fmtSE(after.get(b.band)?.p_under_10_se), b.p_under_10)))));
  const c = h.commissioner;
  const end = lastYear(h);
  const comm = el('table', { class: 'commissioner', id: 'commissioner', 'data-run': st.id },
    el('caption', { text: `The area over the ${h.years} years: averages of ${fmtInt(h.replications)} chance worlds; reserves are for the worst single year` }),
    el('tbody', {},
      commRow('Reserve for the worst year, enough in 95% of chance worlds (range from chance)', 'reserve_95', c.reserve_95, undefined, fmtReserve(h, 0, c.reserve_95)),
      commRow('Reserve for the worst year, enough in 99% of chance worlds (range from chance)', 'reserve_99', c.reserve_99, undefined, fmtReserve(h, 1, c.reserve_99)),
      commRow('Commissioner’s net payments, total over the run', 'outlay_mean', c.outlay_mean, c.outlay_se),
      commRow('Budgets set, total over the run', 'budget_mean', c.budget_mean),
      commRow('Spend on care, total over the run', 'spend_mean', c.spend_mean),
      c.holder_paid_mean ? commRow('Shared losses holders paid from their own money, total over the run', 'holder_paid_mean', c.holder_paid_mean) : null,
      commRow('Savings kept by budget holders, total over the run', 'savings_retained_mean', c.savings_retained_mean),
      commRow('Deficits carried at the end of the last year', 'deficit_carried_mean', end.deficit_carried_mean),
      el('tr', { 'data-key': 'prob_area_overspend' }, el('th', { scope: 'row', text: 'Chance the area overspends in a year' }), cell(fmtPct(c.prob_area_overspend), c.prob_area_overspend))));
  return [
    el('h2', { text: 'Results' }),
    el('p', { class: 'facts', text: facts(h, st.scenario) }),
    el('div', { class: 'tables' }, el('div', { class: 'scroll', tabindex: 0 }, head), el('div', { class: 'scroll', tabindex: 0 }, comm)),
    luckPanel(st),
    chartsView(charts, st.id, ['overspend-vs-list', 'area-overspend']),
    downloads([['Setting', st.id]]),
  ];
}

// luckPanel asks, for a contract, how often it pays for luck: the risk
// curve at the scenario's holders' size (POST /api/risk-curves), read by
// its column names.
function luckPanel(st) {
  if (valueOf('a', 'rule.type') !== 'shared_savings' || state.compare) return null;
  const box = el('section', { class: 'luck', id: 'luck', 'aria-labelledby': 'luck-title' },
    el('h3', { id: 'luck-title', text: 'Does the contract pay for luck?' }),
    el('p', { text: 'A holder’s spend moves by chance from year to year. This simulates many holders of this scenario’s size twice, with no real change and with a true 2% saving, to show how often the contract pays shared savings for chance alone. On an area of England whose budget holders are its real PCNs or places, those real holders are measured too, beside holders of their average size.' }));
  const btn = el('button', { type: 'button', id: 'luck-run', text: 'Measure it' });
  const out = el('div', { id: 'luck-out', role: 'status' });
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    out.textContent = 'Simulating…';
    const p = paramsRequest();
    const reps = Math.min(Number(p.reps) || 200, 200);
    const res = await api('POST', '/api/risk-curves', { ...sideRequest('a'), reps, seed: p.seed });
    if (!res.ok) { out.textContent = res.data.error; btn.disabled = false; return; }
    const es = new EventSource(`/api/risk-curves/${res.data.id}/events`);
    es.addEventListener('progress', ev => { out.textContent = `Simulating… ${Math.round(100 * JSON.parse(ev.data).progress)}%`; });
    es.addEventListener('end', ev => {
      es.close();
      btn.disabled = false;
      const d = JSON.parse(ev.data);
      if (d.status !== 'done') { out.textContent = `Not measured: ${d.error || d.status}`; return; }
      out.replaceChildren(luckTable(d));
    });
  });
  box.append(btn, out);
  return box;
}

// luckTable shows the curve's rows side by side: holders of the
// scenario's size first, then, on an area of England, its real holders by
// level (of unequal size; holder_size their mean).
function luckTable(d) {
  const rows = (d.curve || []).length ? d.curve : [{}];
  const pct = (v, se) => v === null || v === undefined ? '–' : fmtPct(v) + fmtSE(se);
  const head = r => r.level ? `This area’s real ${LEVEL_WORDS[r.level] || r.level}s (${fmtInt(r.holders)}, ${fmtInt(r.holder_size)} people on average)` : `Holders of ${fmtInt(r.holder_size)} people`;
  const line = (key, label, v, se) => el('tr', { 'data-key': key }, el('th', { scope: 'row', text: label }), ...rows.map(r => cell(pct(r[v], se && r[se]), r[v])));
  const t = el('table', { class: 'luck-table', id: 'luck-table', 'data-curve': d.id },
    el('caption', { text: `${fmtInt(d.reps)} chance worlds of ${d.years} contract year${d.years === 1 ? '' : 's'} (± uncertainty from chance)` }),
    el('thead', {}, el('tr', {}, el('td', {}), ...rows.map(r => el('th', { scope: 'col', 'data-level': r.level || '', text: head(r) })))),
    el('tbody', {},
      line('false_reward', 'Chance the contract pays shared savings when spend did not really change', 'false_reward', 'false_reward_se'),
      line('msr_for_5pct_false_reward', 'Minimum savings rate (corridor) that would hold that chance to 5%', 'msr_for_5pct_false_reward', 'msr_for_5pct_false_reward_se'),
      line('scenario_msr', 'This contract’s minimum savings rate at this size', 'scenario_msr'),
      line('power_2pct', 'Chance a true 2% saving is rewarded', 'power_2pct', 'power_2pct_se')));
  return el('div', { class: 'scroll', tabindex: 0 }, t);
}

function commRow(label, key, v, se, text) {
  return el('tr', { 'data-key': key }, el('th', { scope: 'row', text: label }),
    cell(text || fmtPounds(v) + (se !== undefined && se !== null ? ` ± ${fmtPounds(se)}` : ''), v));
}

function chartsView(charts, id, first) {
  const fig = c => {
    const f = el('figure', { class: 'chart', id: 'chart-' + c.id, 'data-run': id });
    f.innerHTML = c.svg; // drawn by the server (gonum/plot), text escaped
    f.prepend(el('figcaption', { class: 'sr-only', text: c.title }));
    f.append(el('p', { class: 'reading', text: c.reading }));
    const data = el('details', { class: 'numbers' }, el('summary', { text: 'Numbers drawn' }));
    const t = el('table', { class: 'data' });
    for (const s of c.series) t.append(el('tr', {}, el('th', { text: s.name }), ...s.y.map(v => el('td', { text: v === null ? '–' : Number(v).toPrecision(4) }))));
    data.append(el('div', { class: 'scroll', tabindex: 0 }, t));
    f.append(data);
    return f;
  };
  const main = charts.filter(c => first.includes(c.id)).sort((a, b) => first.indexOf(a.id) - first.indexOf(b.id));
  const rest = charts.filter(c => !first.includes(c.id));
  const box = el('div', { class: 'charts' }, ...main.map(fig));
  if (rest.length) box.append(el('details', { class: 'more' }, el('summary', { text: `${rest.length} more charts` }), ...rest.map(fig)));
  return box;
}

function downloads(items, cmp) {
  const ul = el('ul', { class: 'downloads' });
  for (const [label, id] of items) {
    ul.append(el('li', {}, `${label}: `,
      el('a', { href: `/api/runs/${id}/scenario.yaml`, download: 'scenario.yaml', text: 'scenario (YAML)' }), ' · ',
      el('a', { href: `/api/runs/${id}/results.parquet`, text: 'results (Parquet)' }), ' · ',
      el('a', { href: `/api/runs/${id}/ledger.parquet`, text: 'ledger (Parquet)' }), ' · ',
      el('a', { href: `/api/runs/${id}/report`, target: '_blank', rel: 'noopener', text: 'report' }), ' ',
      el('a', { href: `/api/runs/${id}/report?download=1`, text: '(HTML file)' })));
  }
  if (cmp) {
    ul.append(el('li', {}, 'Comparison: ',
      el('a', { href: `/api/comparisons/${cmp}/results.parquet`, text: 'paired differences (Parquet)' }), ' · ',
      el('a', { href: `/api/comparisons/${cmp}/report`, target: '_blank', rel: 'noopener', text: 'report' }), ' ',
      el('a', { href: `/api/comparisons/${cmp}/report?download=1`, text: '(HTML file)' })));
  }
  return el('div', { class: 'download-box' }, el('h3', { text: 'Download' }), ul);
}

function diffCell(d, money) {
  if (!d) return cell('–', null);
  const txt = money ? `${fmtDiffPounds(d.difference)} ± ${fmtPounds(d.se_paired)}` : `${fmtPP(d.difference)} ± ${(100 * d.se_paired).toFixed(1)}`;
  const sig = Math.abs(d.difference) > 1.96 * d.se_paired;
  return cell(txt, d.difference, sig ? 'diff sig' : 'diff');
}

function compareView(st, a, b, charts, ca, cb) {
  const diffs = st.differences || [];
  const find = (m, band = 'all') => diffs.find(d => d.metric === m && d.band === band);
  const ha = a.summary, hb = b.summary;
  const bandsB = new Map(hb.bands.map(x => [x.band, x]));
  const head = el('table', { class: 'headline compare', id: 'headline', 'data-run': st.id },
    el('caption', { text: 'Chance that a practice’s spend passes its budget by more than 5% or 10% in a year (before any pool or consortium pays), by list size: A, B and B − A (± its uncertainty from chance)' }),
    el('thead', {},
      el('tr', {}, el('th', { rowspan: 2, text: 'patients' }), el('th', { colspan: 3, text: 'over by >5%' }), el('th', { colspan: 3, text: 'over by >10%' })),
      el('tr', {}, ...['A', 'B', 'B − A', 'A', 'B', 'B − A'].map(t => el('th', { scope: 'col', text: t })))),
    el('tbody', {}, ...ha.bands.map(x => {
      const y = bandsB.get(x.band) || {};
      return el('tr', { 'data-band': x.band, class: x.band === 'all' ? 'total' : '' },
        el('th', { scope: 'row', text: x.band === 'all' ? 'all practices' : x.band }),
        cell(fmtPct(x.p_over_5), x.p_over_5), cell(fmtPct(y.p_over_5), y.p_over_5), diffCell(find('p_overspend_5', x.band)),
        cell(fmtPct(x.p_over_10), x.p_over_10), cell(fmtPct(y.p_over_10), y.p_over_10), diffCell(find('p_overspend_10', x.band)));
    })));
  const afterA = holderBands(ha), afterB = holderBands(hb);
  const afterDiff = (m, band) => (st.after_pool_differences || []).find(d => d.metric === m && d.band === band);
  const pooled = el('table', { class: 'after-pool compare', id: 'after-pool', 'data-run': st.id },
    el('caption', { text: 'After any pool or consortium has paid: chance a practice must find more than 5% (10%) of its budget itself in a year, by list size: A, B and B − A (± uncertainty from chance)' }),
    el('thead', {},
      el('tr', {}, el('th', { rowspan: 2, text: 'patients' }), el('th', { colspan: 3, text: 'must find >5%' }), el('th', { colspan: 3, text: 'must find >10%' })),
      el('tr', {}, ...['A', 'B', 'B − A', 'A', 'B', 'B − A'].map(t => el('th', { scope: 'col', text: t })))),
    el('tbody', {}, ...ha.bands.map(x => {
      const pa = afterA.get(x.band) || {}, pb = afterB.get(x.band) || {};
      return el('tr', { 'data-band': x.band, class: x.band === 'all' ? 'total' : '' }, el('th', { scope: 'row', text: x.band === 'all' ? 'all practices' : x.band }),
        cell(fmtPct(pa.p_over_5_after) + fmtSE(pa.p_over_5_after_se), pa.p_over_5_after), cell(fmtPct(pb.p_over_5_after) + fmtSE(pb.p_over_5_after_se), pb.p_over_5_after),
        diffCell(afterDiff('p_over_5_after', x.band)),
        cell(fmtPct(pa.p_over_10_after) + fmtSE(pa.p_over_10_after_se), pa.p_over_10_after), cell(fmtPct(pb.p_over_10_after) + fmtSE(pb.p_over_10_after_se), pb.p_over_10_after),
        diffCell(afterDiff('p_over_10_after', x.band)));
    })));
  const rows = [
    ['Reserve for the worst year, enough in 95% of chance worlds', 'reserve_p95', ha.commissioner.reserve_95, hb.commissioner.reserve_95],
    ['Reserve for the worst year, enough in 99% of chance worlds', 'reserve_p99', ha.commissioner.reserve_99, hb.commissioner.reserve_99],
    ['Commissioner’s net payments, total over the run', 'commissioner_outlay', ha.commissioner.outlay_mean, hb.commissioner.outlay_mean],
    ['Savings kept by budget holders, total over the run', 'savings_retained', ha.commissioner.savings_retained_mean, hb.commissioner.savings_retained_mean],
    ['Deficits carried at the end of the last year', 'deficit_carried', lastYear(ha).deficit_carried_mean, lastYear(hb).deficit_carried_mean],
  ];
  const comm = el('table', { class: 'commissioner compare', id: 'commissioner', 'data-run': st.id },
    el('caption', { text: `The area over the ${ha.years} years: A, B and B − A (± its uncertainty from chance)` }),
    el('thead', {}, el('tr', {}, ...['', 'A', 'B', 'B − A'].map(t => el('th', { scope: 'col', text: t })))),
    el('tbody', {}, ...rows.map(([label, m, va, vb]) => {
      const d = find(m);
      const av = va ?? d?.a, bv = vb ?? d?.b;
      return el('tr', { 'data-key': m }, el('th', { scope: 'row', text: label }), cell(fmtPounds(av), av), cell(fmtPounds(bv), bv), diffCell(d, true));
    })));
  const all = el('table', { class: 'differences', id: 'differences', 'data-run': st.id },
    el('caption', { text: 'Every difference (B − A), with its uncertainty from chance: on the same chance events, and as two separate runs would give it' }),
    el('thead', {}, el('tr', {}, ...['measure', 'patients', 'A', 'B', 'B − A', '± same chance events', '± separate runs'].map(t => el('th', { scope: 'col', text: t })))),
    el('tbody', {}, ...diffs.map(d => {
      const f = d.unit === '£' ? fmtPounds : fmtPct;
      const fd = d.unit === '£' ? fmtDiffPounds : fmtPP;
      return el('tr', { 'data-metric': d.metric, 'data-band': d.band }, el('th', { scope: 'row', text: d.label }), el('td', { text: d.band }),
        cell(f(d.a), d.a), cell(f(d.b), d.b), cell(fd(d.difference), d.difference),
        cell(d.unit === '£' ? fmtPounds(d.se_paired) : (100 * d.se_paired).toFixed(2) + ' points', d.se_paired),
        cell(d.unit === '£' ? fmtPounds(d.se_independent) : (100 * d.se_independent).toFixed(2) + ' points', d.se_independent));
    })));
  const sideCharts = el('div', { class: 'side-by-side' },
    el('div', {}, el('h3', { text: 'A: ' + (a.scenario || ha.scenario) }), chartsView(ca.filter(c => c.id === 'overspend-vs-list'), a.id, ['overspend-vs-list'])),
    el('div', {}, el('h3', { text: 'B: ' + (b.scenario || hb.scenario) }), chartsView(cb.filter(c => c.id === 'overspend-vs-list'), b.id, ['overspend-vs-list'])));
  return [
    el('h2', { text: 'A against B' }),
    el('p', { class: 'facts', text: `A: ${facts(ha, a.scenario)} B: ${facts(hb, b.scenario)} Both ran on the same patients and chance events, so their differences are measured far more precisely than two separate runs would allow.` }),
    el('div', { class: 'tables' }, el('div', { class: 'scroll', tabindex: 0 }, head), el('div', { class: 'scroll', tabindex: 0 }, pooled), el('div', { class: 'scroll', tabindex: 0 }, comm)),
    chartsView(charts, st.id, ['cmp-reserve-p95', 'cmp-commissioner-outlay', 'cmp-p-overspend-5']),
    sideCharts,
    el('details', { class: 'all-diffs', open: true }, el('summary', { text: 'All paired differences' }), el('div', { class: 'scroll', tabindex: 0 }, all)),
    downloads([['A', a.id], ['B', b.id]], st.id),
  ];
}

// ---- recent runs ----

async function showRecent(ev) {
  if (ev) ev.preventDefault();
  const res = await api('GET', '/api/runs');
  const tb = document.querySelector('#recent-table tbody');
  tb.replaceChildren(...(res.data || []).slice(0, 50).map(j => {
    const open = j.kind === 'risk-curve' ? el('a', { href: `/api/risk-curves/${j.id}/risk_curve.csv`, text: 'table (CSV)' }) : jobKey(j) === null ? el('span', { text: 'sent as text' }) : el('a', { href: linkFor(j), text: 'open' });
    const del = el('button', { type: 'button', class: 'link', text: 'delete', 'aria-label': `delete ${j.scenario || j.id}` });
    del.addEventListener('click', async () => {
      const r = await api('DELETE', ({ comparison: '/api/comparisons/', 'risk-curve': '/api/risk-curves/' }[j.kind] || '/api/runs/') + j.id);
      if (r.ok) showRecent();
    });
    const ended = ['done', 'failed', 'cancelled'].includes(j.status);
    return el('tr', {}, el('td', { text: new Date(j.created).toLocaleString('en-GB') }), el('td', { text: `${j.kind === 'comparison' ? 'Compare: ' : j.kind === 'risk-curve' ? 'Luck at holder sizes: ' : ''}${j.scenario}` }),
      el('td', { text: `${fmtInt(j.reps)} replications × ${j.years} years` }), el('td', { text: j.status }), el('td', {}, open, ended ? ' · ' : '', ended ? del : ''));
  }));
  $('recent').hidden = false;
  $('recent').scrollIntoView();
}

function linkFor(j) {
  const q = new URLSearchParams();
  const r = j.request || {};
  const put = (side, s) => {
    if (s.upload) q.set(`${side}.u`, s.upload); else q.set(`${side}.s`, s.scenario || 'default');
    if (s.population) q.set(`${side}.pop`, s.population);
    if (s.practices) q.set(`${side}.pr`, s.practices);
    if (s.area) q.set(`${side}.area`, s.area);
    for (const [p, v] of Object.entries(s.set || {})) q.set(`${side}.${p}`, v === null ? '' : Array.isArray(v) ? v.join(',') : String(v));
  };
  if (j.kind === 'comparison') { put('a', r.a || {}); put('b', r.b || {}); q.set('compare', '1'); } else put('a', r);
  q.set('reps', j.reps); q.set('years', j.years); q.set('seed', j.seed); q.set('cohort', j.cohort ? '1' : '0');
  if (j.status === 'done') q.set('result', (j.kind === 'run' ? 'run:' : 'cmp:') + j.id);
  return '?' + q;
}

// ---- start ----

async function start() {
  fromURL();
  // A link with a result opens that result under its own settings: the
  // form takes them from the result, whatever else the link says.
  let job = null;
  if (state.result) {
    const [kind, id] = state.result.split(':');
    const res = /^(run|cmp)$/.test(kind) && /^[0-9a-f]{16}$/.test(id || '') ? await api('GET', (kind === 'run' ? '/api/runs/' : '/api/comparisons/') + id) : { ok: false };
    if (res.ok) job = res.data;
    else state.result = '';
  }
  if (job && job.status === 'done' && jobKey(job) !== null) {
    history.replaceState(null, '', location.pathname + linkFor(job));
    fromURL();
  }
  // Uploads a link names are fetched first: their levers' values.
  const ids = new Set(SIDES.flatMap(s => [state.sides[s].upload, state.sides[s].population]).filter(Boolean));
  for (const id of ids) {
    const res = await api('GET', `/api/uploads/${encodeURIComponent(id)}`);
    if (res.ok) uploads.set(id, res.data);
  }
  for (const side of SIDES) {
    const s = state.sides[side];
    if (s.upload && !uploads.has(s.upload)) { s.upload = ''; s.set = {}; }
    if (s.population && !uploads.has(s.population)) s.population = '';
    if (!s.upload && !BUILTINS.has(s.scenario)) s.scenario = 'default';
  }
  $('compare').checked = state.compare;
  $('compare').addEventListener('change', () => {
    state.compare = $('compare').checked;
    if (state.compare && !new URLSearchParams(location.search).has('b.s')) {
      // B starts as a copy of A, to change one lever at a time.
      state.sides.b = JSON.parse(JSON.stringify(state.sides.a));
    }
    changed(true);
  });
  renderSides();
  renderRun();
  $('setup').addEventListener('submit', run);
  $('cancel').addEventListener('click', cancel);
  $('show-recent').addEventListener('click', showRecent);
  toURL();
  const ok = await validateNow();
  if (job) {
    const kind = job.kind;
    if (job.status === 'done') {
      await show(kind, job);
      if (jobKey(job) !== pageKey()) {
        state.result = '';
        markStale('These results were made with settings this page cannot show (a scenario sent as text, or a file no longer on this server): the form shows other settings.');
        toURL();
      }
    } else if (!['failed', 'cancelled'].includes(job.status)) {
      follow(kind, job.id, performance.now(), jobKey(job));
    }
  }
  document.body.dataset.ready = ok ? 'ok' : 'invalid';
}

start();
