/*
 * dnid admin: a single page app over the admin API (vanilla JavaScript, no build step).
 *
 * - The admin token is kept in sessionStorage (this tab only) and sent as
 *   `Authorization: Bearer` with every API request; it never goes into a URL.
 * - Every value from the server reaches the page as text (textContent, text nodes,
 *   attributes): no markup is ever built from data.
 * - Routes live in the hash: #/pools, #/pools/new, #/pools/{id}, #/pools/{id}/edit,
 *   #/call-flows, #/calls, #/webhooks, #/system.
 * - dnid keeps no history of active sessions, so the page samples the pools' figures
 *   while it is open and keeps the samples in memory and sessionStorage.
 */
(function () {
  'use strict';

  var TOKEN_KEY = 'dnid_admin_token';
  var SAMPLES_KEY = 'dnid_admin_samples';
  var REFRESH_MS = 2000;
  var BACKGROUND_SAMPLE_MS = 10000;
  var SAMPLE_KEEP_MS = 6 * 3600 * 1000;
  var SAMPLE_MAX = 3000;
  var CHART_SPAN_MS = 3 * 3600 * 1000;
  var CHART_MIN_SPAN_MS = 5 * 60 * 1000;
  var GAP_MS = 60 * 1000;
  var SESSIONS_SHOWN = 200;

  var main = document.getElementById('main');
  var nav = document.getElementById('nav');
  var signoutButton = document.getElementById('signout');

  // ---------------------------------------------------------------- DOM helpers

  function append(el, kids) {
    kids.forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      if (Array.isArray(c)) { append(el, c); return; }
      el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    });
    return el;
  }

  var PROPS = { value: 1, checked: 1, selected: 1, disabled: 1, hidden: 1, readOnly: 1 };

  function setAttrs(el, attrs) {
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
      else if (k === 'text') el.textContent = v;
      else if (PROPS[k]) el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    });
  }

  /** An element: h('a', {href: '#/pools'}, 'text', child, [children]). */
  function h(tag, attrs) {
    var el = document.createElement(tag);
    setAttrs(el, attrs);
    return append(el, [].slice.call(arguments, 2));
  }

  var SVG_NS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs) {
    var el = document.createElementNS(SVG_NS, tag);
    setAttrs(el, attrs);
    return append(el, [].slice.call(arguments, 2));
  }

  /** Replaces a container's children, keeping the focus on the element with the same data-key. */
  function fill(container, kids) {
    var active = document.activeElement;
    var key = active && container.contains(active) ? active.getAttribute('data-key') : null;
    container.textContent = '';
    append(container, [kids]);
    if (key) {
      var again = container.querySelector('[data-key="' + CSS.escape(key) + '"]');
      if (again) again.focus();
    }
  }

  /** A table; each cell is labelled with its column (phones show rows as cards). */
  function table(headers, rows, attrs) {
    var labels = headers.map(function (c) { return typeof c === 'string' ? c : c.text; });
    rows.forEach(function (tr) {
      [].forEach.call(tr.children, function (cell, i) {
        if (labels[i] && !cell.hasAttribute('colspan')) cell.setAttribute('data-label', labels[i]);
      });
    });
    return h('div', { class: 'table-wrap' },
      h('table', attrs || {},
        h('thead', {}, h('tr', {}, headers.map(function (c) {
          return typeof c === 'string' ? h('th', { scope: 'col' }, c) : h('th', { scope: 'col', class: c.cls }, c.text);
        }))),
        h('tbody', {}, rows)));
  }

  function td(value, cls) {
    var empty = value === null || value === undefined || value === '';
    return h('td', { class: cls || null }, empty ? '—' : Array.isArray(value) ? h('span', {}, value) : value);
  }

  // ---------------------------------------------------------------- formatting

  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function clock(d) { d = d || new Date(); return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()); }
  function hhmm(ms) { var d = new Date(ms); return pad(d.getHours()) + ':' + pad(d.getMinutes()); }
  function when(rfc) {
    if (!rfc) return '';
    var d = new Date(rfc);
    return isNaN(d) ? rfc : d.toLocaleString();
  }
  function duration(secs) {
    if (secs === null || secs === undefined) return '';
    secs = Math.max(0, Math.round(secs));
    if (secs < 60) return secs + ' s';
    if (secs < 3600) return Math.floor(secs / 60) + ' min ' + pad(secs % 60) + ' s';
    return Math.floor(secs / 3600) + ' h ' + pad(Math.floor((secs % 3600) / 60)) + ' min';
  }
  function percent(u) { return Math.round((u || 0) * 100) + '%'; }
  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }
  function clickId(a) {
    a = a || {};
    var keys = ['gclid', 'fbclid', 'msclkid', 'gbraid', 'wbraid'];
    for (var i = 0; i < keys.length; i++) if (a[keys[i]]) return keys[i] + ': ' + a[keys[i]];
    return '';
  }
  function splitNumbers(text) {
    return text.split(/[\n,;]+/).map(function (s) { return s.trim(); }).filter(Boolean);
  }
  function slug(s) { return (s || 'pool').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'pool'; }

  // ---------------------------------------------------------------- storage

  function store() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }
  function getToken() {
    var s = store();
    return (s && s.getItem(TOKEN_KEY)) || '';
  }
  function setToken(t) {
    var s = store();
    if (s) { if (t) s.setItem(TOKEN_KEY, t); else s.removeItem(TOKEN_KEY); }
  }

  // ---------------------------------------------------------------- API

  function networkError() {
    return { status: 0, code: 'network', message: 'dnid could not be reached; check that the server is running.' };
  }

  /** A fetch to the admin API with the token; resolves to the Response of a 2xx answer. */
  function apiRaw(method, path, body, opts) {
    var headers = { Authorization: 'Bearer ' + getToken() };
    var init = { method: method, headers: headers, cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (r) {
      if (r.ok) return r;
      return r.text().then(function (t) {
        var e = {};
        try { e = JSON.parse(t).error || {}; } catch (x) { /* not JSON */ }
        var err = {
          status: r.status,
          code: e.code || 'http_' + r.status,
          message: e.message || 'HTTP ' + r.status,
          field: e.field || null
        };
        // 401: no token; 403 `forbidden`: a wrong one (it was changed, or the server restarted with another).
        err.auth = r.status === 401 || (r.status === 403 && err.code === 'forbidden');
        if (err.auth && !(opts && opts.signingIn)) signOut('The admin token was not accepted; sign in again.');
        throw err;
      });
    }, function () { throw networkError(); });
  }

  /** The JSON answer of an admin API request (null for 204). Errors: {status, code, message, field}. */
  function api(method, path, body, opts) {
    return apiRaw(method, path, body, opts).then(function (r) {
      if (r.status === 204) return null;
      return r.text().then(function (t) { return t ? JSON.parse(t) : null; });
    });
  }

  function message(e) { return (e && e.message) || String(e); }

  // ---------------------------------------------------------------- samples (chart history)

  var samples = (function () {
    try { return JSON.parse(store().getItem(SAMPLES_KEY) || '{}') || {}; } catch (e) { return {}; }
  }());
  var lastSampleAt = 0;

  function saveSamples() {
    try { store().setItem(SAMPLES_KEY, JSON.stringify(samples)); } catch (e) { /* full or unavailable: memory only */ }
  }

  /**
   * Records a pool's figures now: [time ms, active sessions, numbers, 1 if nothing was
   * sampled for a while before]. Runs of equal values keep their two ends only.
   */
  function record(poolId, active, total) {
    var now = Date.now();
    var list = samples[poolId] || (samples[poolId] = []);
    var last = list[list.length - 1], prev = list[list.length - 2];
    var gap = !last || now - last[0] > GAP_MS;
    if (!gap && now - last[0] < 1000) { last[1] = active; last[2] = total; }
    else if (!gap && prev && !last[3] && last[1] === active && last[2] === total &&
      prev[1] === active && prev[2] === total) last[0] = now;
    else list.push(gap && last ? [now, active, total, 1] : [now, active, total]);
    while (list.length && (list.length > SAMPLE_MAX || now - list[0][0] > SAMPLE_KEEP_MS)) list.shift();
  }

  function recordPools(pools) {
    pools.forEach(function (p) { if (!p.error) record(p.id, p.active_sessions, p.numbers_total); });
    lastSampleAt = Date.now();
    saveSamples();
  }

  // Between the live pages, the pools are still sampled, more slowly.
  setInterval(function () {
    if (!getToken() || Date.now() - lastSampleAt < BACKGROUND_SAMPLE_MS / 2) return;
    api('GET', '/api/v1/pools').then(function (d) { recordPools(d.pools || []); }, function () {});
  }, BACKGROUND_SAMPLE_MS);

  // ---------------------------------------------------------------- chart

  function niceMax(v) {
    if (v <= 4) return Math.max(1, v);
    var step = Math.pow(10, Math.floor(Math.log10(v)));
    var m = [1, 2, 2.5, 5, 10].map(function (f) { return f * step; }).find(function (c) { return c >= v; });
    return m || v;
  }

  /** An SVG step chart of active sessions and pool size over the samples of the last hours. */
  function chart(list, now) {
    list = (list || []).filter(function (s) { return s[0] <= now; });
    if (!list.length) return h('p', { class: 'empty' }, 'No samples yet.');
    var W = 640, H = 220, L = 40, R = 14, T = 12, B = 30;
    var start = Math.max(list[0][0], now - CHART_SPAN_MS);
    if (now - start < CHART_MIN_SPAN_MS) start = now - CHART_MIN_SPAN_MS;
    var visible = [];
    list.forEach(function (s, i) {
      if (s[0] >= start) visible.push(s);
      else if (!list[i + 1] || list[i + 1][0] > start) visible.push([start, s[1], s[2]]);
    });
    var highest = 1;
    visible.forEach(function (s) { highest = Math.max(highest, s[1], s[2]); });
    // Headroom above the highest line, so that it does not sit on the frame.
    var top = niceMax(highest <= 6 ? highest + 1 : highest * 1.1);
    function x(t) { return (L + (t - start) / (now - start) * (W - L - R)).toFixed(1); }
    function y(v) { return (T + (1 - v / top) * (H - T - B)).toFixed(1); }
    // Runs of samples taken without a pause; a pause (no admin page open) breaks the lines.
    var runs = [];
    visible.forEach(function (s, i) {
      if (!i || s[3]) runs.push([]);
      runs[runs.length - 1].push(s);
    });
    var first = visible[0], last = visible[visible.length - 1];
    var end = now - last[0] <= GAP_MS ? now : last[0];
    function line(run, k, until) {
      var d = 'M' + x(run[0][0]) + ' ' + y(run[0][k]);
      run.slice(1).forEach(function (s) { d += 'H' + x(s[0]) + 'V' + y(s[k]); });
      return d + 'H' + x(until);
    }
    function paths(k) {
      return runs.map(function (run, i) {
        return line(run, k, i === runs.length - 1 ? end : run[run.length - 1][0]);
      }).join('');
    }
    var area = runs.map(function (run, i) {
      return line(run, 1, i === runs.length - 1 ? end : run[run.length - 1][0]) + 'V' + y(0) + 'H' + x(run[0][0]) + 'Z';
    }).join('');
    var levels = [];
    if (top <= 8) for (var l = 0; l <= top; l++) levels.push(l);
    else levels = [0, top / 2, top];
    var grid = levels.map(function (v) {
      return [svg('line', { class: v ? 'grid' : 'axis', x1: L, x2: W - R, y1: y(v), y2: y(v) }),
        svg('text', { x: L - 6, y: +y(v) + 4, 'text-anchor': 'end' }, String(Math.round(v * 10) / 10))];
    });
    var ticks = [start, (start + now) / 2, now].map(function (t, i) {
      return svg('text', { x: x(t), y: H - 8, 'text-anchor': ['start', 'middle', 'end'][i] }, i === 2 ? 'now' : hhmm(t));
    });
    var max = 0;
    visible.forEach(function (s) { max = Math.max(max, s[1]); });
    var id = 'chart-title-' + Math.random().toString(36).slice(2);
    return svg('svg', { class: 'chart', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-labelledby': id },
      svg('title', { id: id }, 'Active sessions: ' + last[1] + ' of ' + last[2] + ' numbers now; at most ' + max +
        ' since ' + hhmm(first[0]) + '.'),
      grid, ticks,
      svg('path', { class: 'area', d: area }),
      svg('path', { class: 'size', d: paths(2) }),
      svg('path', { class: 'active', d: paths(1) }));
  }

  // ---------------------------------------------------------------- forms

  var fieldSeq = 0;

  /**
   * A labelled field. def: {name, label, type, hint, value, options: [[value, text]],
   * radios: [[value, text, hint]], rows, min, max, placeholder, autocomplete}.
   * Returns {el, input, error, name}.
   */
  function field(def) {
    var id = 'f-' + def.name + '-' + (++fieldSeq);
    var errorId = id + '-error', hintId = id + '-hint';
    var error = h('p', { class: 'field-error', id: errorId });
    var hint = def.hint ? h('p', { class: 'hint', id: hintId }, def.hint) : null;
    var described = (hint ? hintId + ' ' : '') + errorId;
    var input;
    if (def.radios) {
      var group = h('fieldset', { class: 'field' + (def.wide ? ' wide' : ''), 'aria-describedby': described },
        h('legend', {}, def.label),
        def.radios.map(function (r, i) {
          var rid = id + '-' + i;
          return h('label', { for: rid },
            h('input', { type: 'radio', name: id, id: rid, value: r[0], checked: r[0] === def.value, 'data-field': def.name }),
            h('span', {}, h('strong', {}, r[1]), r[2] ? ' — ' + r[2] : ''));
        }), hint, error);
      return {
        el: group, error: error, name: def.name, input: group,
        get: function () {
          var c = group.querySelector('input:checked');
          return c ? c.value : '';
        },
        focus: function () { (group.querySelector('input:checked') || group.querySelector('input')).focus(); }
      };
    }
    if (def.options) {
      input = h('select', { id: id, name: def.name },
        def.options.map(function (o) { return h('option', { value: o[0], selected: o[0] === def.value }, o[1]); }));
    } else if (def.type === 'textarea') {
      input = h('textarea', { id: id, name: def.name, rows: def.rows || 4, placeholder: def.placeholder, spellcheck: 'false' });
      input.value = def.value || '';
    } else if (def.type === 'checkbox') {
      input = h('input', { type: 'checkbox', id: id, name: def.name, checked: !!def.value });
    } else {
      input = h('input', {
        type: def.type || 'text', id: id, name: def.name, value: def.value === undefined || def.value === null ? '' : String(def.value),
        min: def.min, max: def.max, placeholder: def.placeholder, autocomplete: def.autocomplete || 'off',
        inputmode: def.inputmode, spellcheck: 'false'
      });
    }
    input.setAttribute('aria-describedby', described);
    var wrap = def.type === 'checkbox'
      ? h('div', { class: 'field check' + (def.wide ? ' wide' : '') }, h('label', { for: id }, input, ' ', def.label), hint, error)
      : h('div', { class: 'field' + (def.wide ? ' wide' : '') }, h('label', { for: id }, def.label), input, hint, error);
    return {
      el: wrap, input: input, error: error, name: def.name,
      get: function () { return def.type === 'checkbox' ? input.checked : input.value.trim(); },
      focus: function () { input.focus(); }
    };
  }

  /** Fields by name, an error box for the form, and how to show an API error. */
  function formState(fields, box) {
    var byName = {};
    fields.forEach(function (f) { byName[f.name] = f; });
    return {
      fields: byName,
      box: box,
      clear: function () {
        box.textContent = '';
        fields.forEach(function (f) {
          f.error.textContent = '';
          f.input.removeAttribute('aria-invalid');
          f.input.querySelectorAll('input').forEach(function (i) { i.removeAttribute('aria-invalid'); });
        });
      },
      fieldError: function (name, text) {
        var f = byName[name];
        if (!f) { box.textContent = text; return; }
        f.error.textContent = text;
        f.input.setAttribute('aria-invalid', 'true');
        f.focus();
      },
      /** Puts a server error next to its field (`error.field`), or in the box. */
      show: function (e, aliases) {
        var name = e.field;
        if (aliases && !byName[name]) name = aliases[e.code] || aliases[name] || name;
        if (name && byName[name]) {
          // The field is shown by its place; the message need not start with its API name.
          var text = e.message, prefix = (e.field || '') + ': ';
          if (e.field && text.indexOf(prefix) === 0) text = text.slice(prefix.length);
          this.fieldError(name, text.charAt(0).toUpperCase() + text.slice(1));
        }
        else {
          box.textContent = e.message;
          box.focus();
        }
      }
    };
  }

  function errorBox() { return h('div', { class: 'form-error', role: 'alert', tabindex: '-1' }); }
  function statusLine(id) { return h('p', { class: 'status-msg', role: 'status', id: id || null }); }

  /** A button that asks again before it acts. */
  function confirmButton(label, question, act, key) {
    var span = h('span', { class: 'confirm' });
    function ask() {
      var yes = h('button', { type: 'button', class: 'small danger', 'data-key': key + ':yes', onclick: function () { yes.disabled = true; act(); } }, 'Yes, ' + label.toLowerCase());
      fill(span, [h('span', {}, question + ' '), yes, ' ',
        h('button', { type: 'button', class: 'small', onclick: reset, 'data-key': key + ':no' }, 'Cancel')]);
      yes.focus();
    }
    function reset() {
      fill(span, h('button', { type: 'button', class: 'small danger', onclick: ask, 'data-key': key }, label));
    }
    reset();
    return span;
  }

  // ---------------------------------------------------------------- copy and download

  function copyText(text, source, status) {
    function fallback() {
      var ok = false;
      try { source.focus(); source.select(); ok = document.execCommand('copy'); } catch (e) { ok = false; }
      status.textContent = ok ? 'Copied to the clipboard.' : 'Select the text and copy it with Ctrl+C (⌘C on a Mac).';
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { status.textContent = 'Copied to the clipboard.'; }, fallback);
    } else fallback();
  }

  /** Fetches the call log as CSV with the token and saves it as a file. */
  function downloadCsv(query, filename, status) {
    status.textContent = 'Preparing the CSV…';
    var q = query ? query + '&format=csv' : 'format=csv';
    apiRaw('GET', '/api/v1/calls?' + q).then(function (r) { return r.blob(); }).then(function (blob) {
      var url = URL.createObjectURL(blob);
      var a = h('a', { href: url, download: filename, hidden: true });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
      status.textContent = 'Downloaded ' + filename + ' (' + plural(blob.size, 'byte', 'bytes') + ').';
    }).catch(function (e) { status.textContent = 'The CSV could not be downloaded: ' + message(e); });
  }

  // ---------------------------------------------------------------- routing

  var view = null;
  var navigated = false;

  function newView() {
    if (view) {
      view.alive = false;
      view.timers.forEach(clearInterval);
    }
    view = { alive: true, timers: [] };
    return view;
  }

  /** Runs fn now and then every ms while the view is shown; a tick is skipped while the last one's promise is pending. */
  function every(v, ms, fn) {
    var busy = false;
    function tick() {
      if (!v.alive || busy) return;
      var p = fn();
      if (p && p.then) {
        busy = true;
        p.then(function () { busy = false; }, function () { busy = false; });
      }
    }
    tick();
    v.timers.push(setInterval(tick, ms));
  }

  function parseHash() {
    var raw = location.hash.replace(/^#\/?/, '');
    var q = raw.indexOf('?');
    var path = q < 0 ? raw : raw.slice(0, q);
    return {
      parts: path.split('/').filter(Boolean).map(function (p) {
        try { return decodeURIComponent(p); } catch (e) { return p; }
      }),
      query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1))
    };
  }

  function mount(title, kids) {
    document.title = title + ' · dnid admin';
    fill(main, kids);
    if (navigated) {
      var h1 = main.querySelector('h1');
      if (h1) h1.focus();
    }
  }

  function heading(text) { return h('h1', { tabindex: '-1' }, text); }

  function route() {
    var v = newView();
    var signedIn = !!getToken();
    nav.hidden = !signedIn;
    signoutButton.hidden = !signedIn;
    if (!signedIn) { signInView(v); return; }
    var r = parseHash(), p = r.parts;
    var section = p[0] || 'pools';
    nav.querySelectorAll('a').forEach(function (a) {
      if (a.getAttribute('data-nav') === section) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
    if (section === 'pools' && p.length === 1 || p.length === 0) poolsView(v);
    else if (section === 'pools' && p[1] === 'new' && p.length === 2) poolFormView(v, null);
    else if (section === 'pools' && p.length === 2) poolView(v, p[1]);
    else if (section === 'pools' && p.length === 3 && p[2] === 'edit') poolFormView(v, p[1]);
    else if (section === 'call-flows' && p.length === 1) flowsView(v);
    else if (section === 'calls' && p.length === 1) callsView(v, r.query);
    else if (section === 'webhooks' && p.length === 1) webhooksView(v);
    else if (section === 'system' && p.length === 1) systemView(v);
    else mount('Not found', [heading('Page not found'), h('p', {}, h('a', { href: '#/pools' }, 'Go to Number Pools'))]);
  }

  function signOut(why) {
    setToken('');
    try { store().removeItem(SAMPLES_KEY); } catch (e) { /* nothing kept */ }
    samples = {};
    signInMessage = why || '';
    route();
  }

  window.addEventListener('hashchange', function () { navigated = true; route(); });
  signoutButton.addEventListener('click', function () { signOut('Signed out.'); });
  document.getElementById('skip').addEventListener('click', function () {
    (main.querySelector('h1') || main).focus();
  });

  // ---------------------------------------------------------------- sign in

  var signInMessage = '';

  function signInView(v) {
    var token = field({
      name: 'token', label: 'Admin token', type: 'password', autocomplete: 'current-password',
      hint: 'dnid prints it on first start and keeps it in data/admin_token (or set it with DNID_ADMIN_TOKEN).'
    });
    var box = errorBox();
    var state = formState([token], box);
    var button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
    var form = h('form', { id: 'signin-form', method: 'post', novalidate: true }, token.el, box,
      h('div', { class: 'actions' }, button));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      state.clear();
      var t = token.get();
      if (!t) { state.fieldError('token', 'Enter the admin token.'); return; }
      button.disabled = true;
      setToken(t);
      api('GET', '/api/v1/pools', undefined, { signingIn: true }).then(function (d) {
        if (!v.alive) return;
        recordPools(d.pools || []);
        signInMessage = '';
        navigated = true;
        if (!location.hash || location.hash === '#' || location.hash === '#/') location.hash = '#/pools';
        else route();
      }, function (e) {
        setToken('');
        button.disabled = false;
        state.fieldError('token', e.auth ? 'This token was not accepted. Check it and try again.' : message(e));
      });
    });
    mount('Sign in', h('div', { class: 'signin' },
      heading('Sign in to dnid'),
      signInMessage ? h('p', { class: 'note', role: 'status' }, signInMessage) : null,
      form,
      h('p', { class: 'note' }, 'The token stays in this browser tab only (session storage) and is sent with each request ' +
        'to the admin API. Closing the tab or signing out forgets it.')));
    token.input.focus();
  }

  // ---------------------------------------------------------------- Number Pools

  function sizing(p) {
    if (!('needs_more_numbers' in p)) return '';
    if (p.needs_more_numbers) {
      return h('span', { class: 'badge warn', title: 'Recommended size: ' + p.recommended_size },
        'Needs more numbers (recommended ' + p.recommended_size + ')');
    }
    return h('span', { class: 'badge ok' }, 'OK');
  }

  function utilization(u) {
    return h('span', { class: 'util' },
      h('meter', { min: 0, max: 1, low: 0.6, high: 0.85, optimum: 0, value: u || 0, 'aria-label': 'Utilization ' + percent(u) }),
      percent(u));
  }

  function poolsTable(pools) {
    if (!pools.length) {
      return h('div', { class: 'empty' },
        h('p', {}, 'No pools yet.'),
        h('p', {}, 'A pool is a set of tracking numbers for one website. To create one you need the website\'s address, ' +
          'the phone number printed on it (the target number) and a few tracking numbers from your telephony provider.'));
    }
    var rows = pools.map(function (p) {
      if (p.error) {
        return h('tr', { 'data-pool-id': p.id }, td(p.id, 'mono'), h('td', { colspan: 6 }, h('span', { class: 'badge bad' }, 'Unavailable: ' + p.error)));
      }
      return h('tr', { 'data-pool-id': p.id },
        h('td', {}, h('a', { href: '#/pools/' + encodeURIComponent(p.id) }, p.name)),
        td(p.website_url, 'url'),
        h('td', { class: 'num numbers-total' }, h('span', {}, String(p.numbers_total), h('span', { class: 'note' }, ' (' + p.numbers_free + ' free)'))),
        h('td', { class: 'num active-sessions' }, String(p.active_sessions)),
        h('td', {}, utilization(p.utilization)),
        h('td', { class: 'num exhausted' }, String(p.exhausted)),
        h('td', { class: 'sizing' }, sizing(p)));
    });
    return table(['Pool', 'Website', { text: 'Numbers', cls: 'num' }, { text: 'Active Sessions', cls: 'num' }, 'Utilization',
      { text: 'Exhausted answers', cls: 'num' }, 'Sizing'], rows, { id: 'pools-table' });
  }

  function poolsView(v) {
    var live = h('p', { class: 'live' }, 'Loading…');
    var body = h('div', { id: 'pools' });
    mount('Number Pools', [
      h('div', { class: 'head' }, heading('Number Pools'),
        h('a', { class: 'button primary', href: '#/pools/new', id: 'create-pool' }, 'Create Pool')),
      live, body,
      h('p', { class: 'note' }, 'Active Sessions are visitors holding a number now. Exhausted answers count the visitors who ' +
        'found no free number (they saw the fallback number). Sizing compares the pool with its recommended size: ' +
        'the peak of active sessions × 1.25.')
    ]);
    var last = null;
    every(v, REFRESH_MS, function () {
      return api('GET', '/api/v1/pools').then(function (d) {
        if (!v.alive) return;
        var pools = d.pools || [];
        recordPools(pools);
        live.textContent = 'Live: updated ' + clock() + ', every ' + REFRESH_MS / 1000 + ' s.';
        var json = JSON.stringify(pools);
        if (json === last) return;
        last = json;
        fill(body, poolsTable(pools));
      }).catch(function (e) { if (v.alive) live.textContent = 'Refresh failed: ' + message(e); });
    });
  }

  var POLICIES = [
    ['fallback', 'Fallback', 'show the fallback number (or the target number if none); no lease'],
    ['recycle_oldest', 'Recycle oldest', 'take the number of the least recently active visitor; calls in the overlap are marked ambiguous'],
    ['no_swap', 'No swap', 'leave the page as it is']
  ];

  function poolFormView(v, id) {
    var editing = !!id;
    mount(editing ? 'Edit pool' : 'Create Pool', [heading(editing ? 'Edit pool' : 'Create Pool'), h('p', {}, 'Loading…')]);
    var loads = [api('GET', '/api/v1/call-flows'), editing ? api('GET', '/api/v1/pools/' + encodeURIComponent(id)) : Promise.resolve(null)];
    Promise.all(loads).then(function (r) {
      if (!v.alive) return;
      var flows = r[0].call_flows || [], pool = r[1] || {};
      var fields = [
        field({ name: 'name', label: 'Name', value: pool.name, hint: 'For you and your team, e.g. "Main site – paid search".' }),
        field({
          name: 'website_url', label: 'Website URL', type: 'url', value: pool.website_url, placeholder: 'https://www.example.com',
          hint: 'The site the snippet is installed on. Only pages of this site and its subdomains can lease numbers.'
        }),
        field({
          name: 'target_number', label: 'Target number', type: 'tel', value: pool.target_number, placeholder: '+12345678900',
          hint: 'The number printed on your website; the snippet replaces it. E.164 (+12345678900) or national form.'
        })
      ];
      if (!editing) {
        fields.push(field({
          name: 'numbers', label: 'Tracking numbers', type: 'textarea', rows: 4, wide: true, placeholder: '+15550001001\n+15550001002',
          hint: 'One per line or separated by commas; E.164 or national form. You can add more later.'
        }));
      }
      fields.push(
        field({
          name: 'call_flow_id', label: 'Call flow', value: pool.call_flow_id || '',
          options: [['', 'None: calls ring the target number']].concat(flows.map(function (f) { return [f.id, f.name + ' (forwards to ' + f.forward_to + ')']; }),
            pool.call_flow_id && !flows.some(function (f) { return f.id === pool.call_flow_id; }) ? [[pool.call_flow_id, pool.call_flow_id + ' (no such call flow)']] : []),
          hint: flows.length ? 'Where calls to the tracking numbers go.' : 'No call flows yet: calls ring the target number. Create one under Call Flows.'
        }),
        field({
          name: 'fallback_number', label: 'Fallback number (optional)', type: 'tel', value: pool.fallback_number,
          hint: 'Shown when every number is taken (policy Fallback). Empty: the target number is shown.'
        }),
        field({
          name: 'session_timeout_secs', label: 'Session timeout (seconds)', type: 'number', min: 60, max: 86400,
          value: pool.session_timeout_secs || 1800, inputmode: 'numeric',
          hint: 'How long a visitor keeps a number after their last page view: 60 to 86400; default 1800 (30 minutes).'
        }),
        field({
          name: 'attribution_window_secs', label: 'Late-call window (seconds)', type: 'number', min: 0,
          value: pool.attribution_window_secs === undefined ? 3600 : pool.attribution_window_secs, inputmode: 'numeric',
          hint: 'A call after the lease ended is still matched to its last visitor for this long; default 3600.'
        }),
        field({ name: 'exhaustion_policy', label: 'When every number is taken', radios: POLICIES, value: pool.exhaustion_policy || 'fallback', wide: true })
      );
      var box = errorBox();
      var state = formState(fields, box);
      var submit = h('button', { type: 'submit', class: 'primary' }, editing ? 'Save changes' : 'Create Pool');
      var form = h('form', { class: 'grid', id: 'pool-form', method: 'post', novalidate: true },
        h('div', { class: 'span-all' }, box),
        fields.map(function (f) { return f.el; }),
        h('div', { class: 'actions span-all' }, submit,
          h('a', { class: 'button', href: editing ? '#/pools/' + encodeURIComponent(id) : '#/pools' }, 'Cancel')));
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        state.clear();
        var f = state.fields, body = {
          name: f.name.get(), website_url: f.website_url.get(), target_number: f.target_number.get(),
          exhaustion_policy: f.exhaustion_policy.get()
        };
        var fallback = f.fallback_number.get(), flow = f.call_flow_id.get();
        if (fallback || editing) body.fallback_number = fallback || null;
        if (flow || editing) body.call_flow_id = flow || null;
        var bad = false;
        ['session_timeout_secs', 'attribution_window_secs'].forEach(function (k) {
          var s = f[k].get();
          if (s === '') return;
          if (!/^\d+$/.test(s)) { state.fieldError(k, 'Enter a whole number of seconds.'); bad = true; return; }
          body[k] = parseInt(s, 10);
        });
        if (bad) return;
        if (!editing) body.numbers = splitNumbers(f.numbers.get());
        submit.disabled = true;
        var req = editing
          ? api('PATCH', '/api/v1/pools/' + encodeURIComponent(id), body)
          : api('POST', '/api/v1/pools', body);
        req.then(function (p) {
          location.hash = '#/pools/' + encodeURIComponent(editing ? id : p.id);
        }, function (e) {
          submit.disabled = false;
          state.show(e, { duplicate_number: 'numbers', number_in_other_pool: 'numbers', too_many_numbers: 'numbers' });
        });
      });
      mount(editing ? 'Edit ' + pool.name : 'Create Pool', [
        h('p', { class: 'crumbs' }, h('a', { href: '#/pools' }, 'Number Pools'), editing ? [' / ', h('a', { href: '#/pools/' + encodeURIComponent(id) }, pool.name)] : null),
        heading(editing ? 'Edit pool' : 'Create Pool'),
        form
      ]);
      if (!navigated) fields[0].focus();
    }).catch(function (e) {
      if (v.alive) mount('Pool', [heading(editing ? 'Edit pool' : 'Create Pool'), h('p', { class: 'form-error' }, message(e))]);
    });
  }

  /** The install tag for a pool, as the README gives it. */
  function snippetFor(pool) {
    return '<script src="' + location.origin + '/api/v1/tracking/snippet.js"\n' +
      '        data-pool-id="' + pool.id + '" data-target="' + pool.target_number + '" async></script>';
  }

  function statCard(label, value, id) {
    return h('div', { class: 'stat' }, h('div', { class: 'label' }, label), h('div', { class: 'value', id: id || null }, String(value)));
  }

  function callsTable(calls, withPool, pools) {
    var names = {};
    (pools || []).forEach(function (p) { names[p.id] = p.name; });
    var rows = [];
    calls.forEach(function (c) {
      var s = c.session || {}, a = s.attribution || {};
      var detailsRow = null;
      var toggle = h('button', {
        type: 'button', class: 'small', 'aria-expanded': 'false', 'data-key': 'call:' + c.id,
        onclick: function () {
          var open = toggle.getAttribute('aria-expanded') === 'true';
          toggle.setAttribute('aria-expanded', String(!open));
          detailsRow.hidden = open;
        }
      }, 'Details');
      var cells = [
        td(when(c.started_at)),
        td(c.caller_number, 'mono caller'),
        td(c.tracking_number, 'mono'),
        h('td', { class: 'status' }, h('span', { class: 'badge' + (c.status === 'attributed' ? ' ok' : c.status === 'unattributed' ? ' bad' : '') }, c.status)),
        td(a.utm_source, 'utm-source'), td(a.utm_medium), td(a.utm_campaign),
        td(clickId(a)), td(a.landing_page, 'url'),
        td(duration(c.duration_secs), 'num'),
        td(c.first_call ? 'First call' : 'Repeat (' + c.prior_calls + ' before)')
      ];
      if (withPool) cells.splice(1, 0, td(c.pool_id ? names[c.pool_id] || c.pool_id : ''));
      cells.push(h('td', {}, toggle));
      rows.push(h('tr', { 'data-call-id': c.id }, cells));
      detailsRow = h('tr', { class: 'details', hidden: true }, h('td', { colspan: cells.length }, callDetails(c)));
      rows.push(detailsRow);
    });
    var head = ['Started', 'Caller', 'Tracking number', 'Status', 'Source', 'Medium', 'Campaign', 'Click id', 'Landing page',
      { text: 'Duration', cls: 'num' }, 'Caller history', ''];
    if (withPool) head.splice(1, 0, 'Pool');
    return table(head, rows, { class: 'calls' });
  }

  function sessionDl(s) {
    var a = s.attribution || {};
    return [
      ['Session', s.session_id], ['Landing page', a.landing_page], ['Referrer', a.referrer],
      ['Source', a.utm_source], ['Medium', a.utm_medium], ['Campaign', a.utm_campaign], ['Term', a.utm_term], ['Content', a.utm_content],
      ['gclid', a.gclid], ['fbclid', a.fbclid], ['msclkid', a.msclkid], ['gbraid', a.gbraid], ['wbraid', a.wbraid],
      ['Pages viewed', s.pages_viewed], ['Time on site', duration(s.duration_secs)], ['First seen', when(s.first_seen)],
      ['Last seen', when(s.last_seen)], ['IP', a.ip], ['User agent', a.user_agent]
    ];
  }

  function kv(pairs) {
    return h('dl', { class: 'kv' }, pairs.filter(function (p) { return p[1] !== null && p[1] !== undefined && p[1] !== ''; })
      .map(function (p) { return [h('dt', {}, p[0]), h('dd', {}, String(p[1]))]; }));
  }

  function callDetails(c) {
    var pairs = [['Call id', c.id], ['Provider', c.provider], ['Provider call id', c.provider_call_id], ['Call state', c.call_status],
      ['Ended', when(c.ended_at)], ['Forwarded to', c.forwarded_to]];
    return [kv(pairs),
      c.session ? [h('h3', {}, 'Attributed session'), kv(sessionDl(c.session))] : h('p', { class: 'note' }, 'No session was matched to this call.'),
      c.other_session ? [h('h3', {}, 'Other candidate session (number recycled)'), kv(sessionDl(c.other_session))] : null];
  }

  function poolView(v, id) {
    var path = '/api/v1/pools/' + encodeURIComponent(id);
    mount('Pool', [heading('Pool'), h('p', {}, 'Loading…')]);
    api('GET', path).then(function (pool) {
      if (!v.alive) return;
      var live = h('p', { class: 'live' }, 'Loading…');
      var warn = h('div', { id: 'pool-warning' });
      var stats = h('div', { class: 'stats', id: 'pool-stats' });
      var chartBox = h('div', { id: 'pool-chart' });
      var numbersBox = h('div', { id: 'pool-numbers' });
      var sessionsBox = h('div', { id: 'pool-sessions' });
      var callsBox = h('div', { id: 'pool-calls' });
      var peaks = h('p', { class: 'note' });
      var since = h('p', { class: 'note', id: 'chart-since' });
      var numbersMsg = statusLine('numbers-msg');
      var sessionsMsg = statusLine();

      // Numbers: add several at once.
      var add = field({
        name: 'numbers', label: 'Add numbers', type: 'textarea', rows: 3, placeholder: '+15550001003\n+15550001004',
        hint: 'One per line or separated by commas; E.164 or national form. All are added, or none if one is refused.'
      });
      var addBox = errorBox();
      var addState = formState([add], addBox);
      var addButton = h('button', { type: 'submit' }, 'Add numbers');
      var addForm = h('form', { id: 'add-numbers-form', method: 'post', novalidate: true }, add.el, addBox, h('div', { class: 'actions' }, addButton));
      addForm.addEventListener('submit', function (ev) {
        ev.preventDefault();
        addState.clear();
        numbersMsg.textContent = '';
        var list = splitNumbers(add.get());
        if (!list.length) { addState.fieldError('numbers', 'Enter at least one number.'); return; }
        addButton.disabled = true;
        api('POST', path + '/numbers', { numbers: list }).then(function (r) {
          addButton.disabled = false;
          add.input.value = '';
          numbersMsg.textContent = 'Added ' + plural(r.added, 'number', 'numbers') + '; the pool has ' + r.numbers_total + '.';
          refresh();
        }, function (e) {
          addButton.disabled = false;
          addState.show(e, { duplicate_number: 'numbers', number_in_other_pool: 'numbers', too_many_numbers: 'numbers' });
        });
      });

      function removeNumber(number, force) {
        numbersMsg.textContent = '';
        api('DELETE', path + '/numbers/' + encodeURIComponent(number) + (force ? '?force=true' : '')).then(function (r) {
          numbersMsg.textContent = r.status === 'draining'
            ? number + ' is leased: it is no longer handed out and leaves the pool when its visitor\'s session ends.'
            : number + ' was removed.';
          refresh();
        }, function (e) { numbersMsg.textContent = message(e); });
      }

      function endSession(sid) {
        api('DELETE', path + '/sessions/' + encodeURIComponent(sid)).then(function () {
          sessionsMsg.textContent = 'The session ended; its number is free again.';
          refresh();
        }, function (e) { sessionsMsg.textContent = message(e); });
      }

      function numbersTable(p, sessions) {
        var holder = {};
        sessions.forEach(function (s) { holder[s.number] = s; });
        var list = p.numbers || [];
        if (!list.length) return h('p', { class: 'empty' }, 'No tracking numbers yet: add some above. Until then visitors see the fallback number.');
        return table(['Number', 'State', 'Held by', 'Action'], list.map(function (n) {
          var s = holder[n.number], a = (s && s.attribution) || {};
          var state = n.draining
            ? h('span', { class: 'badge warn' }, n.leased ? 'Draining (leased)' : 'Draining')
            : n.leased ? h('span', { class: 'badge leased' }, 'Leased') : h('span', { class: 'badge ok' }, 'Free');
          var who = s ? [a.landing_page || 'a visitor', a.utm_source ? ' · ' + a.utm_source : ''] : '';
          var action = n.draining
            ? h('button', { type: 'button', class: 'small danger', 'data-key': 'force:' + n.number, onclick: function () { removeNumber(n.number, true); } }, 'Remove now')
            : h('button', {
              type: 'button', class: 'small', 'data-key': 'rm:' + n.number, 'aria-label': 'Remove ' + n.number,
              onclick: function () { removeNumber(n.number, false); }
            }, 'Remove');
          return h('tr', { 'data-number': n.number, 'data-state': n.draining ? 'draining' : n.leased ? 'leased' : 'free' },
            td(n.number, 'mono'), h('td', {}, state), td(who, 'url'), h('td', {}, action));
        }), { id: 'numbers-table' });
      }

      function sessionsTable(sessions) {
        if (!sessions.length) return h('p', { class: 'empty' }, 'No live sessions. A session starts when a visitor opens a page with the snippet.');
        return table(['Number', 'Landing page', 'Source', 'Medium', 'Campaign', 'Click id', { text: 'Pages', cls: 'num' },
          { text: 'Duration', cls: 'num' }, 'Expires', ''], sessions.map(function (s) {
          var a = s.attribution || {};
          return h('tr', { 'data-session-id': s.session_id },
            td(s.number, 'mono'), td(a.landing_page, 'url landing'), td(a.utm_source, 'utm-source'), td(a.utm_medium), td(a.utm_campaign),
            td(clickId(a), 'click-id'), td(String(s.pages_viewed), 'num'), td(duration(s.duration_secs), 'num'), td(when(s.expires_at)),
            h('td', {}, h('button', {
              type: 'button', class: 'small', 'data-key': 'end:' + s.session_id, 'aria-label': 'End the session holding ' + s.number,
              onclick: function () { endSession(s.session_id); }
            }, 'End')));
        }), { id: 'sessions-table' });
      }

      function renderStats(p, st) {
        fill(stats, [
          statCard('Numbers', st.numbers_total, 'stat-numbers'),
          statCard('Free', st.numbers_free, 'stat-free'),
          statCard('Active Sessions', st.active_sessions, 'stat-active'),
          statCard('Utilization', percent(st.utilization), 'stat-utilization'),
          statCard('Peak, last hour', st.peak_active_1h),
          statCard('Exhausted answers', st.exhausted, 'stat-exhausted'),
          statCard('Recommended size', st.recommended_size, 'stat-recommended')
        ]);
        fill(warn, st.needs_more_numbers
          ? h('div', { class: 'warning', role: 'status' }, h('strong', {}, 'This pool needs more numbers. '),
            'dnid recommends ' + st.recommended_size + ' (it has ' + st.numbers_total + '). ' +
            (st.exhausted ? plural(st.exhausted, 'visitor', 'visitors') + ' found no free number, so their calls cannot be attributed.'
              : 'At peak, nearly every number was in use.'))
          : null);
        peaks.textContent = 'Kept by the server: peak active sessions ' + st.peak_active_1h + ' in the last hour, ' + st.peak_active_24h +
          ' in 24 hours, ' + st.peak_active_7d + ' in 7 days; exhausted answers ' + st.exhausted_1h + ' / ' + st.exhausted_24h + ' / ' +
          st.exhausted_7d + '.';
      }

      var seen = {};
      function changed(key, value) {
        var json = JSON.stringify(value);
        if (seen[key] === json) return false;
        seen[key] = json;
        return true;
      }

      function refresh() {
        return Promise.all([
          api('GET', path),
          api('GET', path + '/sessions?limit=' + SESSIONS_SHOWN),
          api('GET', path + '/stats'),
          api('GET', '/api/v1/calls?pool_id=' + encodeURIComponent(id) + '&limit=50')
        ]).then(function (r) {
          if (!v.alive) return;
          var p = r[0], sessions = r[1].sessions || [], st = r[2], calls = r[3].calls || [];
          record(id, st.active_sessions, st.numbers_total);
          lastSampleAt = Date.now();
          saveSamples();
          live.textContent = 'Live: updated ' + clock() + ', every ' + REFRESH_MS / 1000 + ' s.';
          var st2 = Object.assign({}, st);
          delete st2.at;
          if (changed('stats', st2)) renderStats(p, st);
          if (changed('numbers', [p.numbers, sessions.map(function (s) { return [s.number, s.attribution]; })])) fill(numbersBox, numbersTable(p, sessions));
          if (changed('sessions', [sessions, st.active_sessions])) {
            fill(sessionsBox, [sessions.length < st.active_sessions
              ? h('p', { class: 'note' }, 'Showing ' + sessions.length + ' of ' + st.active_sessions + ' live sessions.') : null,
            sessionsTable(sessions)]);
          }
          if (changed('calls', calls)) {
            fill(callsBox, calls.length ? callsTable(calls, false) : h('p', { class: 'empty' },
              'No calls yet. Calls to this pool\'s numbers show up here with the visitor\'s source, campaign and landing page.'));
          }
          fill(chartBox, chart(samples[id], Date.now()));
          var first = (samples[id] || [])[0];
          since.textContent = first ? 'Sampled by this page since ' + clock(new Date(first[0])) + '.' : '';
        }).catch(function (e) {
          if (!v.alive) return;
          if (e.code === 'pool_not_found') { location.hash = '#/pools'; return; }
          live.textContent = 'Refresh failed: ' + message(e);
        });
      }

      // Snippet.
      var tag = snippetFor(pool);
      var snippetArea = h('textarea', { id: 'snippet', class: 'code', rows: 3, readOnly: true, spellcheck: 'false', 'aria-describedby': 'snippet-hint' });
      snippetArea.value = tag;
      var copyStatus = statusLine('copy-status');
      var copyButton = h('button', { type: 'button', class: 'primary', id: 'copy-snippet', onclick: function () { copyText(tag, snippetArea, copyStatus); } }, 'Copy snippet');

      // Calls.
      var csvStatus = statusLine('csv-status');
      var csvButton = h('button', {
        type: 'button', id: 'download-csv',
        onclick: function () { downloadCsv('pool_id=' + encodeURIComponent(id), 'dnid-calls-' + slug(pool.name) + '.csv', csvStatus); }
      }, 'Download CSV');

      // Settings.
      var flowName = h('span', {}, pool.call_flow_id ? pool.call_flow_id : 'None: calls ring the target number');
      if (pool.call_flow_id) {
        api('GET', '/api/v1/call-flows/' + encodeURIComponent(pool.call_flow_id)).then(function (f) {
          flowName.textContent = f.name + ' (forwards to ' + f.forward_to + ')';
        }, function () { flowName.textContent = pool.call_flow_id + ' (not found)'; });
      }
      var deleteStatus = statusLine();
      var del = confirmButton('Delete pool', 'Delete this pool, its numbers and live sessions?', function () {
        api('DELETE', path).then(function () {
          delete samples[id];
          saveSamples();
          location.hash = '#/pools';
        }, function (e) { deleteStatus.textContent = message(e); });
      }, 'delete-pool');
      var policy = POLICIES.filter(function (x) { return x[0] === pool.exhaustion_policy; })[0];

      mount(pool.name, [
        h('p', { class: 'crumbs' }, h('a', { href: '#/pools' }, 'Number Pools'), ' / ', pool.name),
        h('div', { class: 'head' }, heading(pool.name),
          h('a', { class: 'button', href: '#/pools/' + encodeURIComponent(id) + '/edit', id: 'edit-pool' }, 'Edit settings')),
        h('p', {}, 'Website: ', h('span', { class: 'mono' }, pool.website_url), ' · Target number: ', h('span', { class: 'mono' }, pool.target_number)),
        live, warn, stats,
        h('section', { class: 'card', id: 'chart-section', 'aria-labelledby': 'chart-h' },
          h('h2', { id: 'chart-h' }, 'Active sessions and pool size'),
          h('div', { class: 'legend', 'aria-hidden': 'true' }, h('span', {}, h('span', { class: 'swatch' }), 'Active sessions'),
            h('span', {}, h('span', { class: 'swatch size' }), 'Numbers in the pool')),
          chartBox, since,
          h('p', { class: 'note' }, 'dnid keeps no history of active sessions, so this chart is sampled by this page (every ' +
            REFRESH_MS / 1000 + ' s here, every ' + BACKGROUND_SAMPLE_MS / 1000 + ' s on the other admin pages) for up to the last ' +
            CHART_SPAN_MS / 3600000 + ' hours while it is open, and kept in this browser tab only. Closing the tab forgets it.'),
          peaks),
        h('section', { class: 'card', id: 'snippet-section', 'aria-labelledby': 'snippet-h' },
          h('h2', { id: 'snippet-h' }, 'Install snippet'),
          h('p', { id: 'snippet-hint' }, 'Add this tag to every page of ', h('span', { class: 'mono' }, pool.website_url),
            ', in the <head> or just before </body>. It replaces ', h('span', { class: 'mono' }, pool.target_number),
            ' wherever it is written (any common format, and tel: links) with the visitor\'s tracking number.'),
          h('label', { for: 'snippet' }, 'Snippet for this pool'), snippetArea,
          h('div', { class: 'actions' }, copyButton, copyStatus)),
        h('section', { class: 'card', id: 'numbers-section', 'aria-labelledby': 'numbers-h' },
          h('h2', { id: 'numbers-h' }, 'Numbers'), addForm, numbersMsg, numbersBox),
        h('section', { class: 'card', id: 'sessions-section', 'aria-labelledby': 'sessions-h' },
          h('h2', { id: 'sessions-h' }, 'Live sessions'), sessionsMsg, sessionsBox),
        h('section', { class: 'card', id: 'calls-section', 'aria-labelledby': 'calls-h' },
          h('div', { class: 'head' }, h('h2', { id: 'calls-h' }, 'Calls'),
            h('div', { class: 'actions' }, csvButton, h('a', { class: 'button', href: '#/calls?pool_id=' + encodeURIComponent(id) }, 'Open in the call log'))),
          csvStatus,
          h('p', { class: 'note' }, 'The 50 latest; the CSV has every call of this pool with every attribution column.'),
          callsBox),
        h('section', { class: 'card', id: 'settings-section', 'aria-labelledby': 'settings-h' },
          h('div', { class: 'head' }, h('h2', { id: 'settings-h' }, 'Settings'),
            h('a', { class: 'button', href: '#/pools/' + encodeURIComponent(id) + '/edit' }, 'Edit settings')),
          h('dl', { class: 'kv' },
            h('dt', {}, 'Pool id'), h('dd', { class: 'mono' }, pool.id),
            h('dt', {}, 'Website'), h('dd', {}, pool.website_url),
            h('dt', {}, 'Target number'), h('dd', {}, pool.target_number),
            h('dt', {}, 'Fallback number'), h('dd', {}, pool.fallback_number || 'None: the target number is shown'),
            h('dt', {}, 'Call flow'), h('dd', {}, flowName),
            h('dt', {}, 'Session timeout'), h('dd', {}, pool.session_timeout_secs + ' s (' + duration(pool.session_timeout_secs) + ')'),
            h('dt', {}, 'Late-call window'), h('dd', {}, pool.attribution_window_secs + ' s'),
            h('dt', {}, 'When every number is taken'), h('dd', {}, policy ? policy[1] + ': ' + policy[2] : pool.exhaustion_policy)),
          h('div', { class: 'actions' }, del), deleteStatus)
      ]);
      every(v, REFRESH_MS, refresh);
    }).catch(function (e) {
      if (!v.alive) return;
      mount('Pool', [h('p', { class: 'crumbs' }, h('a', { href: '#/pools' }, 'Number Pools')), heading('Pool not available'),
        h('p', { class: 'form-error' }, message(e))]);
    });
  }

  // ---------------------------------------------------------------- Call Flows

  function flowsView(v) {
    var listBox = h('div', { id: 'flows' });
    var formBox = h('div');
    var status = statusLine('flows-status');
    var flows = [], pools = [];

    function load() {
      return Promise.all([api('GET', '/api/v1/call-flows'), api('GET', '/api/v1/pools')]).then(function (r) {
        if (!v.alive) return;
        flows = r[0].call_flows || [];
        pools = (r[1].pools || []).filter(function (p) { return !p.error; });
        recordPools(r[1].pools || []);
        renderList();
      }).catch(function (e) { status.textContent = message(e); });
    }

    function renderList() {
      if (!flows.length) {
        fill(listBox, h('p', { class: 'empty' }, 'No call flows yet. Without one, a pool\'s calls ring its target number.'));
        return;
      }
      fill(listBox, table(['Name', 'Forwards to', { text: 'Ring timeout', cls: 'num' }, 'Records calls', 'Used by', 'Actions'], flows.map(function (f) {
        var users = pools.filter(function (p) { return p.call_flow_id === f.id; });
        return h('tr', { 'data-flow-id': f.id },
          td(f.name), td(f.forward_to, 'mono'), td(f.ring_timeout_secs + ' s', 'num'), td(f.record ? 'Yes' : 'No'),
          h('td', {}, users.length ? users.map(function (p, i) {
            return [i ? ', ' : '', h('a', { href: '#/pools/' + encodeURIComponent(p.id) }, p.name)];
          }) : '—'),
          h('td', {}, h('div', { class: 'actions' },
            h('button', { type: 'button', class: 'small', 'data-key': 'edit:' + f.id, onclick: function () { renderForm(f); } }, 'Edit'),
            confirmButton('Delete', 'Delete ' + f.name + '?', function () {
              api('DELETE', '/api/v1/call-flows/' + encodeURIComponent(f.id)).then(function () {
                status.textContent = 'Deleted ' + f.name + '.';
                load();
              }, function (e) { status.textContent = message(e); renderList(); });
            }, 'del:' + f.id))));
      }), { id: 'flows-table' }));
    }

    function renderForm(flow) {
      var editing = !!flow;
      flow = flow || {};
      var fields = [
        field({ name: 'name', label: 'Name', value: flow.name, hint: 'e.g. "Sales line".' }),
        field({ name: 'forward_to', label: 'Forward to', type: 'tel', value: flow.forward_to, hint: 'The number that answers the calls (E.164 or national form).' }),
        field({ name: 'ring_timeout_secs', label: 'Ring timeout (seconds)', type: 'number', min: 5, max: 600, value: flow.ring_timeout_secs || 30, hint: '5 to 600; default 30.' }),
        field({ name: 'record', label: 'Record calls', type: 'checkbox', value: !!flow.record })
      ];
      var box = errorBox();
      var state = formState(fields, box);
      var submit = h('button', { type: 'submit', class: 'primary' }, editing ? 'Save call flow' : 'Create call flow');
      var form = h('form', { class: 'grid', id: 'flow-form', method: 'post', novalidate: true },
        h('div', { class: 'span-all' }, box), fields.map(function (f) { return f.el; }),
        h('div', { class: 'actions span-all' }, submit, editing ? h('button', { type: 'button', onclick: function () { renderForm(null); } }, 'Cancel') : null));
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        state.clear();
        var f = state.fields;
        var body = { name: f.name.get(), forward_to: f.forward_to.get(), record: f.record.get() };
        var ring = f.ring_timeout_secs.get();
        if (ring !== '') {
          if (!/^\d+$/.test(ring)) { state.fieldError('ring_timeout_secs', 'Enter a whole number of seconds.'); return; }
          body.ring_timeout_secs = parseInt(ring, 10);
        }
        submit.disabled = true;
        var req = editing ? api('PATCH', '/api/v1/call-flows/' + encodeURIComponent(flow.id), body) : api('POST', '/api/v1/call-flows', body);
        req.then(function (saved) {
          status.textContent = (editing ? 'Saved ' : 'Created ') + saved.name + '.';
          renderForm(null);
          load();
        }, function (e) { submit.disabled = false; state.show(e); });
      });
      fill(formBox, h('section', { class: 'card', 'aria-labelledby': 'flow-form-h' },
        h('h2', { id: 'flow-form-h' }, editing ? 'Edit ' + flow.name : 'New call flow'), form));
      if (editing) fields[0].focus();
    }

    var voiceUrl = location.origin + '/api/v1/telephony/twilio/voice';
    var twilioUrl = h('input', { type: 'text', id: 'twilio-voice-url', readOnly: true, value: voiceUrl, class: 'mono' });
    var twilioCopied = statusLine();
    mount('Call Flows', [heading('Call Flows'),
      h('p', { class: 'note' }, 'A call flow says where calls to a pool\'s tracking numbers are forwarded (Twilio answers them with ' +
        'TwiML that dials this number). Choose it in the pool\'s settings. A pool without a call flow rings its target number.'),
      status, listBox, formBox,
      h('section', { class: 'card', 'aria-labelledby': 'twilio-h' }, h('h2', { id: 'twilio-h' }, 'Connect Twilio'),
        h('p', {}, 'In Twilio, set each tracking number\'s voice webhook ("A call comes in", HTTP POST) to this address. dnid records ' +
          'the call with its attribution and dials the call flow. Behind a proxy, use the address the outside world reaches dnid at ' +
          '(--public-url), and set DNID_TWILIO_AUTH_TOKEN so that Twilio\'s signatures are checked.'),
        h('div', { class: 'field' }, h('label', { for: 'twilio-voice-url' }, 'Voice webhook URL'), twilioUrl),
        h('div', { class: 'actions' }, h('button', { type: 'button', onclick: function () { copyText(voiceUrl, twilioUrl, twilioCopied); } }, 'Copy URL'), twilioCopied),
        h('p', { class: 'note' }, 'Other platforms: post each call to POST /api/v1/calls, or record one by hand on the Calls page.'))]);
    renderForm(null);
    load();
  }

  // ---------------------------------------------------------------- Calls

  var STATUSES = ['attributed', 'late', 'ambiguous', 'fallback', 'unattributed'];

  function toUnix(local) {
    var t = new Date(local).getTime();
    return isNaN(t) ? local : String(Math.floor(t / 1000));
  }

  function callsView(v, query) {
    var listBox = h('div', { id: 'calls' });
    var more = h('div', { class: 'actions' });
    var status = statusLine('calls-status');
    var csvStatus = statusLine('calls-csv-status');
    var recordBox = h('div');
    var pools = [];
    var calls = [];

    var filters = {
      pool_id: field({ name: 'pool_id', label: 'Pool', options: [['', 'All pools']], value: '' }),
      status: field({ name: 'status', label: 'Status', options: [['', 'Any']].concat(STATUSES.map(function (s) { return [s, s]; })), value: query.get('status') || '' }),
      caller: field({ name: 'caller', label: 'Caller number', type: 'tel', value: query.get('caller') || '' }),
      from: field({ name: 'from', label: 'From', type: 'datetime-local' }),
      to: field({ name: 'to', label: 'To', type: 'datetime-local' })
    };
    var fList = Object.keys(filters).map(function (k) { return filters[k]; });
    var box = errorBox();
    var state = formState(fList, box);

    function queryString() {
      var q = new URLSearchParams();
      ['pool_id', 'status', 'caller'].forEach(function (k) { var x = filters[k].get(); if (x) q.set(k, x); });
      ['from', 'to'].forEach(function (k) { var x = filters[k].get(); if (x) q.set(k, toUnix(x)); });
      return q.toString();
    }

    function load(cursor) {
      state.clear();
      var q = queryString();
      var url = '/api/v1/calls?' + q + (q ? '&' : '') + 'limit=50' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
      return api('GET', url).then(function (d) {
        if (!v.alive) return;
        calls = cursor ? calls.concat(d.calls || []) : d.calls || [];
        fill(listBox, calls.length ? callsTable(calls, true, pools) : h('p', { class: 'empty' }, 'No calls match.'));
        status.textContent = plural(calls.length, 'call', 'calls') + ' shown' + (d.next_cursor ? '; there are more.' : '.');
        fill(more, d.next_cursor ? h('button', { type: 'button', onclick: function () { load(d.next_cursor); } }, 'Load more') : null);
      }, function (e) { if (v.alive) state.show(e); });
    }

    var filterForm = h('form', { class: 'grid', id: 'calls-filter', method: 'post', novalidate: true },
      fList.map(function (f) { return f.el; }),
      h('div', { class: 'span-all' }, box),
      h('div', { class: 'actions span-all' },
        h('button', { type: 'submit', class: 'primary' }, 'Apply filters'),
        h('button', { type: 'button', id: 'calls-csv', onclick: function () { downloadCsv(queryString(), 'dnid-calls.csv', csvStatus); } }, 'Download CSV'),
        h('button', { type: 'button', onclick: function () { load(); } }, 'Refresh')),
      csvStatus);
    filterForm.addEventListener('submit', function (ev) { ev.preventDefault(); load(); });

    function renderRecord(numbers) {
      var fields = [
        field({ name: 'tracking_number', label: 'Tracking number called', type: 'tel', hint: 'One of your pools\' numbers.' }),
        field({ name: 'caller_number', label: 'Caller number', type: 'tel' }),
        field({ name: 'duration_secs', label: 'Duration (seconds, optional)', type: 'number', min: 0 }),
        field({
          name: 'call_status', label: 'Call state', value: 'completed',
          options: ['completed', 'ringing', 'in-progress', 'busy', 'no-answer', 'failed', 'canceled'].map(function (s) { return [s, s]; })
        })
      ];
      var list = h('datalist', { id: 'pool-numbers' }, numbers.map(function (n) { return h('option', { value: n }); }));
      fields[0].input.setAttribute('list', 'pool-numbers');
      var rbox = errorBox();
      var rstate = formState(fields, rbox);
      var result = statusLine('record-result');
      var submit = h('button', { type: 'submit', class: 'primary' }, 'Record call');
      var form = h('form', { class: 'grid', id: 'record-call-form', method: 'post', novalidate: true },
        h('div', { class: 'span-all' }, rbox), fields.map(function (f) { return f.el; }), list,
        h('div', { class: 'actions span-all' }, submit), h('div', { class: 'span-all' }, result));
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        rstate.clear();
        result.textContent = '';
        var f = rstate.fields;
        var body = { tracking_number: f.tracking_number.get(), caller_number: f.caller_number.get(), call_status: f.call_status.get() };
        var d = f.duration_secs.get();
        if (d !== '') {
          if (!/^\d+$/.test(d)) { rstate.fieldError('duration_secs', 'Enter a whole number of seconds.'); return; }
          body.duration_secs = parseInt(d, 10);
        }
        submit.disabled = true;
        api('POST', '/api/v1/calls', body).then(function (c) {
          submit.disabled = false;
          var a = (c.session && c.session.attribution) || {};
          result.textContent = 'Recorded: ' + c.status + (a.utm_source ? ', source ' + a.utm_source : '') +
            (a.utm_campaign ? ', campaign ' + a.utm_campaign : '') + '.';
          load();
        }, function (e) { submit.disabled = false; rstate.show(e); });
      });
      fill(recordBox, h('section', { class: 'card', 'aria-labelledby': 'record-h' },
        h('h2', { id: 'record-h' }, 'Record a call'),
        h('p', { class: 'note' }, 'Twilio calls are recorded by themselves. For another telephony platform, or to try your setup, ' +
          'record a call here (it is what POST /api/v1/calls does): it is matched to the visitor who held the number.'),
        form));
    }

    mount('Calls', [heading('Calls'),
      h('section', { class: 'card', 'aria-labelledby': 'filter-h' }, h('h2', { id: 'filter-h' }, 'Call log'), filterForm),
      status, listBox, more, recordBox]);

    Promise.all([api('GET', '/api/v1/pools')]).then(function (r) {
      if (!v.alive) return;
      pools = (r[0].pools || []).filter(function (p) { return !p.error; });
      var sel = filters.pool_id.input;
      pools.forEach(function (p) { sel.appendChild(h('option', { value: p.id }, p.name)); });
      sel.value = query.get('pool_id') || '';
      return Promise.all(pools.map(function (p) { return api('GET', '/api/v1/pools/' + encodeURIComponent(p.id)); }));
    }).then(function (details) {
      if (!v.alive) return;
      var numbers = [];
      (details || []).forEach(function (p) { (p.numbers || []).forEach(function (n) { numbers.push(n.number); }); });
      renderRecord(numbers);
      return load();
    }).catch(function (e) { if (v.alive) status.textContent = message(e); });
  }

  // ---------------------------------------------------------------- Webhooks

  function webhooksView(v) {
    var hooksBox = h('div', { id: 'webhooks' });
    var deliveriesBox = h('div', { id: 'deliveries' });
    var formBox = h('div');
    var secretBox = h('div', { id: 'webhook-secret' });
    var status = statusLine('webhooks-status');
    var pools = [];

    function poolName(id) {
      var p = pools.filter(function (x) { return x.id === id; })[0];
      return p ? p.name : id;
    }

    function loadHooks() {
      return api('GET', '/api/v1/webhooks').then(function (d) {
        if (!v.alive) return;
        var hooks = d.webhooks || [];
        fill(hooksBox, hooks.length ? table(['Pool', 'URL', 'Created', ''], hooks.map(function (w) {
          return h('tr', { 'data-webhook-id': w.id }, td(poolName(w.pool_id)), td(w.url, 'url'), td(when(w.created_at)),
            h('td', {}, confirmButton('Delete', 'Delete this webhook?', function () {
              api('DELETE', '/api/v1/webhooks/' + encodeURIComponent(w.id)).then(function () {
                status.textContent = 'Webhook deleted.';
                loadHooks();
              }, function (e) { status.textContent = message(e); });
            }, 'del:' + w.id)));
        })) : h('p', { class: 'empty' }, 'No webhooks yet.'));
      });
    }

    var lastDeliveries = null;
    function loadDeliveries() {
      return api('GET', '/api/v1/webhooks/deliveries?limit=100').then(function (d) {
        if (!v.alive) return;
        var ds = d.deliveries || [];
        var json = JSON.stringify(ds);
        if (json === lastDeliveries) return;
        lastDeliveries = json;
        fill(deliveriesBox, ds.length ? table(['Created', 'Call', 'State', { text: 'Attempts', cls: 'num' }, 'Last answer', 'Next attempt', ''], ds.map(function (x) {
          return h('tr', { 'data-delivery-id': x.id }, td(when(x.created_at)), td(x.call_id, 'mono'),
            h('td', {}, h('span', { class: 'badge' + (x.state === 'delivered' ? ' ok' : x.state === 'failed' ? ' bad' : ' warn') }, x.state)),
            td(String(x.attempts), 'num'), td(x.last_status ? 'HTTP ' + x.last_status : x.last_error), td(when(x.next_attempt_at)),
            h('td', {}, x.state === 'delivered' ? '' : h('button', {
              type: 'button', class: 'small', 'data-key': 'retry:' + x.id, onclick: function () {
                api('POST', '/api/v1/webhooks/deliveries/' + encodeURIComponent(x.id) + '/retry').then(function () {
                  status.textContent = 'Retrying the delivery now.';
                  loadDeliveries();
                }, function (e) { status.textContent = message(e); });
              }
            }, 'Retry now')));
        })) : h('p', { class: 'empty' }, 'No deliveries yet: one is made for each webhook when a call ends.'));
      });
    }

    function renderForm() {
      var fields = [
        field({ name: 'pool_id', label: 'Pool', options: pools.map(function (p) { return [p.id, p.name]; }) }),
        field({ name: 'url', label: 'URL', type: 'url', placeholder: 'https://crm.example.com/hooks/dnid', hint: 'dnid POSTs {"event":"call.completed", …} here when a call ends.' }),
        field({ name: 'secret', label: 'Secret (optional)', type: 'text', hint: '16 to 256 characters; empty: dnid makes one. It signs each delivery (X-Dnid-Signature).' })
      ];
      var box = errorBox();
      var state = formState(fields, box);
      var submit = h('button', { type: 'submit', class: 'primary', disabled: !pools.length }, 'Add webhook');
      var form = h('form', { class: 'grid', id: 'webhook-form', method: 'post', novalidate: true },
        h('div', { class: 'span-all' }, box), fields.map(function (f) { return f.el; }), h('div', { class: 'actions span-all' }, submit));
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        state.clear();
        var f = state.fields, body = { pool_id: f.pool_id.get(), url: f.url.get() };
        if (f.secret.get()) body.secret = f.secret.get();
        submit.disabled = true;
        api('POST', '/api/v1/webhooks', body).then(function (w) {
          submit.disabled = false;
          f.url.input.value = '';
          f.secret.input.value = '';
          var area = h('textarea', { class: 'code', rows: 1, readOnly: true, id: 'secret-value', 'aria-label': 'Webhook secret' });
          area.value = w.secret;
          var copied = statusLine();
          fill(secretBox, h('div', { class: 'secret', role: 'status' },
            h('p', {}, h('strong', {}, 'Secret for ' + w.url + '. '), 'It is shown only now: keep it where your receiver can verify ' +
              'X-Dnid-Signature (HMAC-SHA256 of "<t>.<raw body>").'),
            area, h('div', { class: 'actions' }, h('button', { type: 'button', onclick: function () { copyText(w.secret, area, copied); } }, 'Copy secret'), copied)));
          loadHooks();
        }, function (e) { submit.disabled = false; state.show(e); });
      });
      fill(formBox, h('section', { class: 'card', 'aria-labelledby': 'webhook-form-h' }, h('h2', { id: 'webhook-form-h' }, 'Add a webhook'),
        pools.length ? null : h('p', { class: 'note' }, 'Create a pool first.'), form, secretBox));
    }

    mount('Webhooks', [heading('Webhooks'),
      h('p', { class: 'note' }, 'When a call ends, dnid POSTs it with its attribution to each webhook of its pool, signed with the ' +
        'webhook\'s secret, and retries failed deliveries with growing pauses (10 attempts).'),
      status, hooksBox, formBox,
      h('section', { class: 'card', 'aria-labelledby': 'deliveries-h' }, h('h2', { id: 'deliveries-h' }, 'Deliveries'), deliveriesBox)]);
    api('GET', '/api/v1/pools').then(function (d) {
      if (!v.alive) return;
      pools = (d.pools || []).filter(function (p) { return !p.error; });
      renderForm();
      loadHooks();
      every(v, 5000, function () { return loadDeliveries().catch(function (e) { status.textContent = message(e); }); });
    }).catch(function (e) { status.textContent = message(e); });
  }

  // ---------------------------------------------------------------- System

  function systemView(v) {
    var listBox = h('div', { id: 'snapshots' });
    var status = statusLine('snapshot-status');
    function load() {
      return api('GET', '/api/v1/snapshots').then(function (d) {
        if (!v.alive) return;
        var list = d.snapshots || [];
        fill(listBox, list.length ? table(['File', 'Created', { text: 'WAL position', cls: 'num' }, { text: 'Size', cls: 'num' }], list.map(function (s) {
          return s.error
            ? h('tr', {}, td(s.file, 'mono'), h('td', { colspan: 3 }, h('span', { class: 'badge bad' }, s.error)))
            : h('tr', {}, td(s.file, 'mono'), td(when(s.created_at)), td(String(s.covered_seq), 'num'), td(plural(s.size_bytes, 'byte', 'bytes'), 'num'));
        })) : h('p', { class: 'empty' }, 'No snapshots yet.'));
      }).catch(function (e) { status.textContent = message(e); });
    }
    var take = h('button', {
      type: 'button', class: 'primary', id: 'take-snapshot', onclick: function () {
        take.disabled = true;
        status.textContent = 'Taking a snapshot…';
        api('POST', '/api/v1/snapshots').then(function (s) {
          take.disabled = false;
          status.textContent = 'Snapshot ' + s.file + ' taken: ' + plural(s.pools, 'pool', 'pools') + ', ' + plural(s.size_bytes, 'byte', 'bytes') + '.';
          load();
        }, function (e) { take.disabled = false; status.textContent = message(e); });
      }
    }, 'Take a snapshot now');
    mount('System', [heading('System'),
      h('section', { class: 'card', 'aria-labelledby': 'snap-h' }, h('h2', { id: 'snap-h' }, 'Snapshots'),
        h('p', { class: 'note' }, 'dnid takes snapshots on its schedule (--snapshot-cron) and keeps the newest ones; recovery uses the newest ' +
          'valid snapshot and the write-ahead log after it.'),
        h('div', { class: 'actions' }, take), status, listBox),
      h('section', { class: 'card', 'aria-labelledby': 'ops-h' }, h('h2', { id: 'ops-h' }, 'Operations'),
        h('ul', {},
          h('li', {}, h('a', { href: '/api/v1/openapi.json', target: '_blank', rel: 'noopener' }, 'API description (OpenAPI)')),
          h('li', {}, h('a', { href: '/metrics', target: '_blank', rel: 'noopener' }, 'Prometheus metrics')),
          h('li', {}, h('a', { href: '/healthz', target: '_blank', rel: 'noopener' }, 'Health'), ' and ',
            h('a', { href: '/readyz', target: '_blank', rel: 'noopener' }, 'readiness')),
          h('li', {}, h('a', { href: '/demo', target: '_blank', rel: 'noopener' }, 'Demo page'), ' (when dnid runs with --demo)')),
        h('p', { class: 'note' }, 'You are signed in with the admin token kept in this browser tab. Sign out (top right) forgets it.'))]);
    load();
  }

  route();
}());
