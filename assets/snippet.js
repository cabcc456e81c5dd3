/*!
 * dnid tracking snippet: Dynamic Number Insertion.
 *
 * Install:
 *   <script src="https://HOST/api/v1/tracking/snippet.js"
 *           data-pool-id="POOL_ID" data-target="+12345678900" async></script>
 *
 * Every occurrence of the target number on the page (text and tel: links) is replaced
 * with the tracking number leased to this visitor's session, written in the same style.
 * Plain ES5, no dependencies. It must never break the page: every failure (server down,
 * slow, refused, old browser) leaves the page as it was, without a console message.
 *
 * This file is the readable source. What dnid serves is assets/snippet.min.js; after
 * editing this file, run scripts/minify-snippet.sh (a unit test checks they match).
 *
 * API, for pages that render numbers themselves:
 *   window.dnid.swap(root)  swaps the numbers under `root` (an element, a text node, a
 *                           document fragment or a shadow root); the whole document is
 *                           swapped, and watched, automatically.
 *   window.dnid.answer      the server's last answer ({number, formatted, leased, ...}).
 *   document event "dnid"   fired after each answer, with the answer as `detail`.
 */
(function (w, d) {
  'use strict';

  // The session id: a first-party cookie (sliding, 30 minutes) and localStorage.
  var KEY = 'dnid_sid';
  // Not swapped: code, form fields, and anything the site marks.
  var SKIP = 'script,style,textarea,input,[data-dni-noswap]';
  // What may separate the digits of a number: spaces (also no-break), dots, hyphens,
  // dashes, and the parentheses around an area code.
  var SEP = '[\\s().\\u2010-\\u2015-]{0,2}';

  var script, base, pool, target, sid;
  var to; // the digits of the number now shown (the target until an answer swaps it)
  var from; // the digits of the numbers to replace with `to`
  var subs; // one replacer function per entry of `from`; unset until there is an answer
  var fmt; // how to write `to` when a match cannot keep its style
  var observer;
  var api = { swap: swap };

  /** The digits of a phone number as E.164 without the plus; a 10-digit number written
   *  without `+` is taken as North American and gets its country code 1. */
  function e164(s) {
    var t = (s || '').replace(/\D/g, '');
    return t.length == 10 && !/^\s*\+/.test(s) ? '1' + t : t;
  }

  /** North American numbers are also written without their country code: their
   *  "national" digits are the last 10. Other numbers are matched in full. */
  function national(digits) {
    return digits.length == 11 && digits[0] == '1' ? digits.slice(1) : digits;
  }

  /** A function that rewrites every occurrence of the number `digits` in a string as the
   *  number `to`, keeping its punctuation. */
  function replacer(digits) {
    var nat = national(digits);
    var re = new RegExp(
      // not right after a digit (an opening parenthesis belongs to the number)
      '(^|[^\\d(])' +
        // the prefix: an optional "(", and "+1" / "1" (North America) or "+"
        '(\\(?' + (nat != digits ? '(?:\\+?1' + SEP + ')?' : '\\+?') + ')' +
        // the digits, with optional separators between them
        '(' + nat.split('').join(SEP) + ')' +
        // and no digit right after
        '(?!\\d)',
      'g'
    );
    return function (s) {
      return s.replace(re, function (m, before, prefix, body) {
        var n = national(to);
        var i = 0;
        // Same kind of number (both North American, or both not) and as many digits:
        // put the new digits in the old places. Otherwise write it out.
        return before + ((nat == digits) == (n == to) && n.length == nat.length
          ? prefix + body.replace(/\d/g, function () { return n[i++]; })
          : fmt);
      });
    };
  }

  /** Swaps the number in one text node. */
  function text(node) {
    var p = node.parentElement;
    var v = node.data;
    if (p && p.closest(SKIP)) return;
    subs.forEach(function (f) { v = f(v); });
    if (v != node.data) node.data = v;
  }

  /** Rewrites a tel: link to the target, whatever its format, as tel:+E164. */
  function link(el) {
    var m = /^\s*tel:([^;?]*)(.*)/i.exec(el.getAttribute('href'));
    if (m && from.indexOf(e164(unescape(m[1]))) >= 0 && !el.closest(SKIP)) {
      el.setAttribute('href', 'tel:+' + to + m[2]);
    }
  }

  /** Swaps everything under `root` (included). */
  function run(root) {
    var walker, n;
    if (root.nodeType == 3) return text(root);
    if (!root.querySelectorAll) return;
    walker = d.createTreeWalker(root, 4 /* NodeFilter.SHOW_TEXT */);
    while ((n = walker.nextNode())) text(n);
    if (root.getAttribute) link(root);
    [].forEach.call(root.querySelectorAll('[href]'), link);
  }

  /** window.dnid.swap(root): swaps the numbers under root (default: the document). */
  function swap(root) {
    try {
      if (subs) run(root || d.documentElement);
    } catch (e) {}
  }

  /** Applies an answer of the server. */
  function apply(a) {
    // No number (pool exhausted with policy no_swap) or a bot: the target stays.
    var n = e164(a.number) || target;
    store((sid = a.session_id));
    api.answer = a;
    if (target && n != to) {
      from = [target];
      if (to != target) from.push(to);
      subs = from.map(replacer);
      to = n;
      fmt = a.formatted || '+' + n;
      swap();
      if (observer) {
        observer.observe(d.documentElement, {
          childList: true,
          subtree: true,
          characterData: true,
          attributes: true,
          attributeFilter: ['href']
        });
      }
      // The parser may still be adding the rest of the page.
      if (d.readyState == 'loading') d.addEventListener('DOMContentLoaded', function () { swap(); });
    }
    try {
      d.dispatchEvent(new CustomEvent('dnid', { detail: a }));
    } catch (e) {}
  }

  function store(v) {
    d.cookie = KEY + '=' + v + ';path=/;max-age=' + (v ? 1800 : 0) + ';samesite=lax' +
      (location.protocol == 'https:' ? ';secure' : '');
    try {
      if (v) localStorage.setItem(KEY, v);
      else localStorage.removeItem(KEY);
    } catch (e) {}
  }

  function load() {
    var v = (d.cookie.match(/(?:^|;)\s*dnid_sid=([\w-]+)/) || [])[1];
    try {
      v = v || localStorage.getItem(KEY);
    } catch (e) {}
    return v && /^[\w-]{1,200}$/.test(v) ? v : '';
  }

  /** POSTs JSON as text/plain (a "simple" request: no CORS preflight), gives up after
   *  3 s, applies a good answer, hands the status of a bad one to `fail`, and swallows
   *  network errors. */
  function call(path, body, fail) {
    try {
      var c = w.AbortController && new AbortController();
      setTimeout(function () { if (c) c.abort(); }, 3000);
      fetch(base + path, { method: 'POST', body: JSON.stringify(body), signal: c && c.signal })
        .then(function (r) {
          return r.ok ? r.json().then(apply) : fail(r.status);
        })
        .catch(function () {});
    } catch (e) {}
  }

  /** Starts a session, or resumes the stored one (which keeps its number). */
  function start() {
    call('sessions', {
      pool_id: pool,
      session_id: sid,
      page_url: location.href.slice(0, 2048),
      referrer: d.referrer.slice(0, 2048)
    }, function (status) {
      // A malformed stored id: drop it and start afresh (once).
      if (status == 400 && sid) {
        store((sid = ''));
        start();
      }
    });
  }

  /** Every minute while the page is visible: keep the lease alive. */
  function beat() {
    if (sid && d.visibilityState != 'hidden') {
      call('sessions/' + sid + '/pageviews', { heartbeat: true }, function (status) {
        // The server no longer knows the session: start a new one.
        if (status == 404 || status == 400) {
          store((sid = ''));
          start();
        }
      });
    }
  }

  try {
    if (w.dnid) return; // included twice
    script = d.currentScript || d.querySelector('script[data-pool-id]');
    pool = script.getAttribute('data-pool-id');
    target = to = e164(script.getAttribute('data-target'));
    // The API is next to the snippet: https://HOST/api/v1/tracking/
    base = script.src.replace(/[?#].*/, '').replace(/[^\/]*$/, '');
    w.dnid = api;
    if (w.MutationObserver) {
      observer = new MutationObserver(function (records) {
        try {
          records.forEach(function (r) {
            if (r.type == 'childList') [].forEach.call(r.addedNodes, run);
            else run(r.target);
          });
          // Drop the records of our own changes.
          observer.takeRecords();
        } catch (e) {}
      });
    }
    sid = load();
    start();
    setInterval(beat, 60000);
  } catch (e) {}
})(window, document);
