/*
 * onpath dashboard page (served by onpath-dashboard; no build step, no framework).
 *
 * Views: Alerts (filters, timeline, a virtualised live list, the detail panel with
 * acknowledge / false positive), Incidents (updated in place by event.id), Sensors
 * (health) and Inventory (the sensors' baselines).
 *
 * Security rule of this file: every value that came from the network (alerts are built
 * from attacker-controlled packets) reaches the DOM only as text: through h()/text()
 * below, which use createTextNode/textContent and setAttribute. Nothing here turns a
 * string into markup or code (tests/dashboard-browser.sh greps for every API that
 * would), and the server's CSP forbids inline script anyway. Invisible and direction-changing characters are shown escaped, so an
 * analyst sees what the packet really held.
 */
'use strict';

(() => {
	/* ------------------------------------------------------------ constants */

	const ROW_H = 26;            /* px; .vlist .row height in style.css */
	const OVERSCAN = 12;         /* rows rendered above and below the visible ones */
	const PAGE = 200;            /* alerts per /api/alerts page (server allows 1..500) */
	const MAX_ROWS = 100000;     /* alerts kept in memory; older ones are dropped */
	const MAX_PENDING = 100000;  /* alerts held while paused; beyond that, reload */
	const FLUSH_MS = 150;        /* live alerts are added in batches this often */
	const FLUSH_MAX = 2000;      /* ... of at most this many (a flood stays smooth) */
	const TIMELINE_BUCKETS = 60;
	const TIMELINE_REFRESH_MS = 5000;
	const SENSORS_REFRESH_MS = 5000;
	const INVENTORY_MAX_ROWS = 2000;
	const RECONNECT_MS = 3000;
	const SEARCH_DEBOUNCE_MS = 300;
	const CONSISTENCY_MS = 10000;  /* how often the list's count is checked against the server's */

	/* ------------------------------------------------- text-only DOM helpers */

	/* Characters that would hide or reorder text (controls, zero-width, bidi
	 * overrides, BOM) are shown as \uXXXX: a hostile name cannot pose as another. */
	const HIDDEN_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

	function shown(v) {
		return String(v).replace(HIDDEN_CHARS,
			(c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
	}

	/* h(tag, props, ...children): an element. Children that are not nodes become
	 * text nodes. props: class, text, dataset, on: {event: fn}, other keys become
	 * attributes (never on* handlers). */
	function h(tag, props, ...kids) {
		const el = tag.startsWith('svg:')
			? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
			: document.createElement(tag);
		for (const [k, v] of Object.entries(props || {})) {
			if (v === null || v === undefined || v === false)
				continue;
			if (k === 'class')
				el.setAttribute('class', v);
			else if (k === 'text')
				el.textContent = shown(v);
			else if (k === 'dataset')
				Object.assign(el.dataset, v);
			else if (k === 'on')
				for (const [ev, fn] of Object.entries(v))
					el.addEventListener(ev, fn);
			else if (/^on/i.test(k))
				throw new Error('inline handlers are not allowed: ' + k);
			else
				el.setAttribute(k, v === true ? '' : String(v));
		}
		append(el, kids);
		return el;
	}

	function append(el, kids) {
		for (const k of kids.flat(Infinity)) {
			if (k === null || k === undefined || k === false)
				continue;
			el.appendChild(k instanceof Node ? k : document.createTextNode(shown(k)));
		}
		return el;
	}

	/* Replaces el's children (the only way this page empties an element). */
	function fill(el, ...kids) {
		el.replaceChildren();
		return append(el, kids);
	}

	const $ = (id) => document.getElementById(id);

	/* Links only to http(s) (a javascript: URL would be script). */
	function link(url, label) {
		return /^https?:\/\//i.test(String(url))
			? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, label || url)
			: h('span', null, label || url);
	}

	/* A value with a copy button: copies what is shown. */
	function copyable(v, cls) {
		if (v === null || v === undefined || v === '')
			return h('span', { class: 'muted' }, '—');
		const s = shown(v);
		return h('span', { class: 'copyable' },
			h('code', { class: cls || null }, s),
			h('button', {
				type: 'button', class: 'copy', title: 'Copy', 'aria-label': 'Copy',
				on: { click: (e) => { e.stopPropagation(); copyText(s); } },
			}, 'copy'));
	}

	async function copyText(s) {
		try {
			await navigator.clipboard.writeText(s);
		} catch (_) {
			/* No clipboard API (plain http on a non-loopback host): a hidden field. */
			const ta = h('textarea', { class: 'offscreen' });
			ta.value = s;
			document.body.appendChild(ta);
			ta.select();
			document.execCommand('copy');
			ta.remove();
		}
		toast('Copied');
	}

	let toastTimer = 0;
	function toast(msg, isError) {
		const t = $('toast');
		t.textContent = shown(msg);
		t.classList.toggle('error', !!isError);
		t.hidden = false;
		clearTimeout(toastTimer);
		toastTimer = setTimeout(() => { t.hidden = true; }, isError ? 6000 : 1500);
	}

	/* ----------------------------------------------------------- formatting */

	/* Times: ISO strings from the sensor, or numbers in s, ms or µs (baselines). */
	function toMs(v) {
		if (typeof v === 'number') {
			if (v > 1e14)
				return v / 1000;
			if (v > 1e11)
				return v;
			return v * 1000;
		}
		const t = Date.parse(v);
		return Number.isNaN(t) ? null : t;
	}

	function fmtTime(v) {
		if (v === null || v === undefined || v === '')
			return '';
		if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(v)) {
			/* Keep the sensor's own digits (µs) to the millisecond. */
			const frac = /^\.\d{1,3}/.exec(v.slice(19));
			return v.slice(0, 10) + ' ' + v.slice(11, 19) + (frac ? frac[0] : '');
		}
		const ms = toMs(v);
		if (ms === null)
			return String(v);
		return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
	}

	function fmtAge(ms) {
		const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
		if (s < 120)
			return s + ' s ago';
		if (s < 7200)
			return Math.round(s / 60) + ' min ago';
		if (s < 172800)
			return Math.round(s / 3600) + ' h ago';
		return Math.round(s / 86400) + ' d ago';
	}

	const fmtNum = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : (n ?? ''));

	function sevClass(n) {
		n = Number(n) || 0;
		if (n >= 9)
			return 'sev-crit';
		if (n >= 7)
			return 'sev-high';
		if (n >= 4)
			return 'sev-med';
		return 'sev-low';
	}

	const sevBadge = (n) => h('span', { class: 'sev ' + sevClass(n), title: 'severity ' + n }, String(n ?? '?'));

	const STATUS_LABEL = { open: 'open', ack: 'acknowledged', fp: 'false positive' };

	function statusOf(ack) {
		return (ack && STATUS_LABEL[ack.status]) ? ack.status : 'open';
	}

	function endpoint(e) {
		if (!e)
			return '';
		let s = e.ip || '';
		if (e.port !== undefined && e.port !== null && s)
			s = (s.includes(':') ? '[' + s + ']' : s) + ':' + e.port;
		if (e.mac)
			s += (s ? ' ' : '') + e.mac;
		return s;
	}

	/* A stable colour per alert type (hue from a string hash). */
	const typeColours = new Map();
	function typeColour(t) {
		if (!typeColours.has(t)) {
			let x = 2166136261;
			for (let i = 0; i < t.length; i++)
				x = Math.imul(x ^ t.charCodeAt(i), 16777619);
			typeColours.set(t, 'hsl(' + ((x >>> 0) % 360) + ' 65% 55%)');
		}
		return typeColours.get(t);
	}

	const get = (o, path) => path.split('.').reduce((a, k) => (a && typeof a === 'object' ? a[k] : undefined), o);
	const asArray = (v) => (Array.isArray(v) ? v : (v === undefined || v === null ? [] : [v]));

	/* ------------------------------------------------------------------ API */

	class AuthError extends Error {}

	async function api(path, opts) {
		const o = Object.assign({ credentials: 'same-origin', headers: {} }, opts || {});
		o.headers = Object.assign({ Accept: 'application/json' }, o.headers);
		if (o.method && o.method !== 'GET') {
			o.headers['X-Onpath'] = '1';            /* the server's CSRF guard */
			if (o.body !== undefined) {
				o.headers['Content-Type'] = 'application/json';
				o.body = JSON.stringify(o.body);
			}
		}
		const r = await fetch(path, o);
		if (r.status === 401 && path !== '/api/login') {
			showLogin();
			throw new AuthError('login required');
		}
		if (r.status === 204)
			return null;
		let body = null;
		try {
			body = await r.json();
		} catch (_) {
			body = null;
		}
		if (!r.ok) {
			const e = new Error((body && body.error) || ('HTTP ' + r.status));
			e.status = r.status;
			throw e;
		}
		return body;
	}

	const post = (path, body) => api(path, { method: 'POST', body });

	function reportError(e) {
		if (!(e instanceof AuthError)) {
			console.error(e);
			toast(e.message || String(e), true);
		}
	}

	/* ---------------------------------------------------------------- state */

	const S = {
		view: 'alerts',
		rows: [],              /* {sid, alert, ack}, newest first */
		bySid: new Map(),
		byEid: new Map(),      /* event.id -> row */
		nextBefore: null,
		total: null,
		loading: false,
		gen: 0,                /* bumps on every reload: late pages of an old query are ignored */
		paused: false,
		stale: false,          /* the list missed alerts (a feed gap): reload at the top */
		pending: [],           /* live alerts held while paused */
		overflow: false,       /* more than MAX_PENDING arrived while paused */
		incoming: [],          /* live alerts waiting for the next batch */
		selected: null,        /* sid or event.id shown in the detail panel */
		detail: null,          /* the /api/alerts/<sid> answer shown */
		es: null,
		types: new Set(),
		sensors: new Set(),
		timelineDirty: false,
		incidents: new Map(),  /* event.id -> {sid, incident, ack} */
		inv: { kind: 'arp', sensor: '', items: [] },
	};

	/* ---------------------------------------------------------------- filters */

	function filterParams() {
		const p = new URLSearchParams();
		const q = $('f-q').value.trim();
		if (q)
			p.set('q', q);
		if ($('f-type').value)
			p.set('type', $('f-type').value);
		if ($('f-sev').value)
			p.set('severity_min', $('f-sev').value);
		if ($('f-sensor').value)
			p.set('sensor', $('f-sensor').value);
		if ($('f-status').value)
			p.set('status', $('f-status').value);
		const range = Number($('f-range').value);
		if (range) {
			const now = Date.now();
			p.set('from', String(now - range * 1000));
			p.set('to', String(now + 60000));
		}
		return p;
	}

	function onFiltersChanged() {
		updateExportLinks();
		reloadAlerts();
		refreshTimeline();
	}

	function updateExportLinks() {
		const p = filterParams();
		p.set('format', 'jsonl');
		$('export-jsonl').href = '/api/export?' + p;
		p.set('format', 'csv');
		$('export-csv').href = '/api/export?' + p;
	}

	/* Keeps the type and sensor pickers in step with what has been seen: the
	 * families (arp., dns., ...) first, then each type. */
	function noteTypesAndSensors(types, sensors) {
		let changed = false;
		for (const t of types)
			if (t && !S.types.has(t)) {
				S.types.add(t);
				changed = true;
			}
		if (changed) {
			const sel = $('f-type');
			const cur = sel.value;
			const fams = [...new Set([...S.types].map((t) => t.split('.')[0] + '.'))].sort();
			fill(sel, h('option', { value: '' }, 'all types'),
				fams.map((f) => h('option', { value: f }, f + '* (all ' + f.slice(0, -1) + ')')),
				[...S.types].sort().map((t) => h('option', { value: t }, t)));
			sel.value = cur;
		}
		changed = false;
		for (const s of sensors)
			if (s && !S.sensors.has(s)) {
				S.sensors.add(s);
				changed = true;
			}
		if (changed) {
			const sel = $('f-sensor');
			const cur = sel.value;
			fill(sel, h('option', { value: '' }, 'all'),
				[...S.sensors].sort().map((s) => h('option', { value: s }, s)));
			sel.value = cur;
		}
	}

	/* ------------------------------------------------ alert list (virtualised) */

	function rowOf(item) {
		const row = { sid: item.sid, alert: item.alert || {}, ack: item.ack || null };
		/* A sensor without a separate incidents stream puts incident updates in the
		 * alert stream: they are listed, and they feed the incidents view too. */
		if (row.alert.event?.kind === 'incident')
			upsertIncident({ sid: row.sid, incident: row.alert, ack: row.ack }, false);
		return row;
	}

	function indexRow(r) {
		S.bySid.set(r.sid, r);
		const eid = r.alert.event?.id;
		if (eid)
			S.byEid.set(eid, r);
	}

	function forgetRow(r) {
		S.bySid.delete(r.sid);
		const eid = get(r.alert, 'event.id');
		if (eid && S.byEid.get(eid) === r)
			S.byEid.delete(eid);
	}

	async function reloadAlerts() {
		const gen = ++S.gen;
		/* The old feed stops now: what it would still deliver is in the new page. */
		if (S.es) {
			S.es.close();
			S.es = null;
		}
		clearTimeout(flushTimer);
		flushTimer = 0;
		S.rows = [];
		S.bySid.clear();
		S.byEid.clear();
		S.nextBefore = null;
		S.total = null;
		S.pending = [];
		S.incoming = [];
		S.overflow = false;
		S.stale = false;
		S.loading = true;
		$('alert-list').scrollTop = 0;
		renderList();
		try {
			const p = filterParams();
			p.set('limit', String(PAGE));
			const r = await api('/api/alerts?' + p);
			if (gen !== S.gen)
				return;
			addPage(r);
		} catch (e) {
			reportError(e);
		} finally {
			if (gen === S.gen)
				S.loading = false;
		}
		if (gen === S.gen) {
			openStream();
			renderList();
			maybeLoadMore();
		}
	}

	function addPage(r) {
		const types = new Set(), sensors = new Set();
		for (const it of r.alerts || []) {
			if (S.bySid.has(it.sid))
				continue;
			const row = rowOf(it);
			S.rows.push(row);
			indexRow(row);
			types.add(get(row.alert, 'event.action'));
			sensors.add(get(row.alert, 'observer.name'));
		}
		S.nextBefore = r.next_before || null;
		if (typeof r.total_matching === 'number')
			S.total = r.total_matching;
		noteTypesAndSensors(types, sensors);
	}

	/* Older pages, fetched when the list is scrolled near its end (before=). */
	async function loadMore() {
		if (S.loading || !S.nextBefore || S.rows.length >= MAX_ROWS)
			return;
		const gen = S.gen;
		S.loading = true;
		renderCount();
		try {
			const p = filterParams();
			p.set('limit', String(PAGE));
			p.set('before', S.nextBefore);
			const r = await api('/api/alerts?' + p);
			if (gen === S.gen)
				addPage(r);
		} catch (e) {
			reportError(e);
		} finally {
			if (gen === S.gen)
				S.loading = false;
		}
		if (gen === S.gen) {
			renderList();
			maybeLoadMore();
		}
	}

	function maybeLoadMore() {
		const el = $('alert-list');
		if (el.scrollTop + el.clientHeight * 3 >= S.rows.length * ROW_H)
			loadMore();
	}

	let renderQueued = false;
	function scheduleRender() {
		if (!renderQueued) {
			renderQueued = true;
			requestAnimationFrame(() => {
				renderQueued = false;
				renderList();
			});
		}
	}

	/* Renders only the rows in view (plus OVERSCAN): the list stays fast with any
	 * number of alerts loaded. */
	function renderList() {
		const el = $('alert-list');
		const spacer = el.firstElementChild;
		spacer.style.height = (S.rows.length * ROW_H) + 'px';
		const first = Math.max(0, Math.floor(el.scrollTop / ROW_H) - OVERSCAN);
		const last = Math.min(S.rows.length, Math.ceil((el.scrollTop + el.clientHeight) / ROW_H) + OVERSCAN);
		const frag = document.createDocumentFragment();
		for (let i = first; i < last; i++)
			frag.appendChild(renderRow(S.rows[i], i));
		/* Keep the spacer, replace the rows. */
		while (spacer.nextSibling)
			spacer.nextSibling.remove();
		el.appendChild(frag);
		renderCount();
	}

	function renderRow(r, i) {
		const a = r.alert;
		const sev = get(a, 'event.severity');
		const st = statusOf(r.ack);
		const eid = get(a, 'event.id');
		const sel = S.selected && (S.selected === r.sid || S.selected === eid);
		const row = h('div', {
			class: 'row ' + sevClass(sev) + ' st-' + st + (sel ? ' selected' : ''),
			role: 'listitem', tabindex: '-1',
			dataset: { sid: r.sid, index: String(i) },
		},
		h('span', { class: 'c-time' }, fmtTime(a['@timestamp'])),
		h('span', { class: 'c-sev' }, sevBadge(sev)),
		h('span', { class: 'c-type' }, get(a, 'event.action') || ''),
		h('span', { class: 'c-sensor' }, get(a, 'observer.name') || ''),
		h('span', { class: 'c-src' }, endpoint(a.source)),
		h('span', { class: 'c-dst' }, endpoint(a.destination)),
		h('span', { class: 'c-msg' }, a.message || ''),
		h('span', { class: 'c-status' }, h('span', { class: 'status st-' + st }, STATUS_LABEL[st])));
		row.style.top = (i * ROW_H) + 'px';
		return row;
	}

	function renderCount() {
		const parts = [];
		if (S.total !== null)
			parts.push(fmtNum(S.total) + ' matching');
		parts.push(fmtNum(S.rows.length) + ' loaded');
		if (S.stale)
			parts.push('alerts missed while the feed caught up: scroll to the top to refresh');
		if (S.loading)
			parts.push('loading…');
		else if (S.nextBefore)
			parts.push('scroll for older');
		fill($('list-count'), parts.join(' · '));
		const b = $('pause');
		const n = S.pending.length;
		b.textContent = S.paused ? ('Resume' + (n || S.overflow ? ' (' + fmtNum(n) + (S.overflow ? '+' : '') + ' new)' : '')) : 'Pause';
		b.classList.toggle('active', S.paused);
	}

	/* Live alerts arrive in batches: newest first, at the top; when the analyst
	 * has scrolled down, the view stays on the same rows. */
	let flushTimer = 0;
	function queueLive(item) {
		if (S.bySid.has(item.sid))
			return;
		if (S.paused) {
			if (S.pending.length < MAX_PENDING)
				S.pending.push(item);
			else
				S.overflow = true;
			renderCount();
			return;
		}
		S.incoming.push(item);
		if (!flushTimer)
			flushTimer = setTimeout(flushLive, FLUSH_MS);
	}

	function flushLive() {
		flushTimer = 0;
		const batch = S.incoming.length > FLUSH_MAX ? S.incoming.splice(0, FLUSH_MAX) : S.incoming;
		if (batch === S.incoming)
			S.incoming = [];
		else
			flushTimer = setTimeout(flushLive, 0);   /* the rest in the next task */
		const fresh = [];
		const types = new Set(), sensors = new Set();
		for (const it of batch) {
			if (S.bySid.has(it.sid))
				continue;
			const row = rowOf(it);
			indexRow(row);
			fresh.push(row);
			types.add(row.alert.event?.action);
			sensors.add(row.alert.observer?.name);
		}
		if (!fresh.length)
			return;
		/* The feed is in stream order (oldest first): reversed, newest first. */
		let ordered = true;
		for (let i = 1; i < fresh.length && ordered; i++)
			ordered = cmpSid(fresh[i - 1].sid, fresh[i].sid) < 0;
		if (ordered)
			fresh.reverse();
		else
			fresh.sort((x, y) => cmpSid(y.sid, x.sid));
		S.rows = fresh.concat(S.rows);
		if (S.total !== null)
			S.total += fresh.length;
		/* Memory bound: forget the oldest; scrolling down fetches them again. */
		if (S.rows.length > MAX_ROWS) {
			for (const r of S.rows.splice(MAX_ROWS))
				forgetRow(r);
			S.nextBefore = S.rows[S.rows.length - 1].sid;
		}
		const el = $('alert-list');
		if (el.scrollTop > 0)
			el.scrollTop += fresh.length * ROW_H;
		noteTypesAndSensors(types, sensors);
		S.timelineDirty = true;
		renderList();
	}

	/* Stream ids "<ms>-<seq>" in order, without parsing: decimal strings without
	 * leading zeros order by length, then as text. */
	function cmpSid(a, b) {
		const i = a.indexOf('-'), j = b.indexOf('-');
		if (i !== j)
			return i - j;
		for (let k = 0; k < i; k++)
			if (a.charCodeAt(k) !== b.charCodeAt(k))
				return a.charCodeAt(k) - b.charCodeAt(k);
		const p = a.length - i, q = b.length - j;
		if (p !== q)
			return p - q;
		return a < b ? -1 : a > b ? 1 : 0;
	}

	function setPaused(p) {
		S.paused = p;
		if (!p) {
			if (S.overflow) {
				reloadAlerts();          /* too many to hold: start again from the top */
			} else {
				S.incoming.push(...S.pending);
				S.pending = [];
				flushLive();
			}
		}
		renderLiveState();
		renderCount();
	}

	/* ------------------------------------------------------------- live (SSE) */

	let reconnectTimer = 0;
	function openStream() {
		if (S.es)
			S.es.close();
		clearTimeout(reconnectTimer);
		const p = filterParams();
		if (S.rows.length)
			p.set('since', S.rows[0].sid);
		const es = new EventSource('/api/events?' + p);
		S.es = es;
		let broken = false;
		es.addEventListener('open', () => {
			renderLiveState('live');
			if (broken)
				resync();
		});
		es.addEventListener('alert', (ev) => {
			if (es !== S.es)
				return;
			const d = parseData(ev);
			if (d && d.sid)
				queueLive(d);
		});
		es.addEventListener('incident', (ev) => {
			const d = parseData(ev);
			if (d && d.sid)
				upsertIncident({ sid: d.sid, incident: d.incident || d.alert, ack: d.ack || null }, true);
		});
		/* The server dropped this feed's backlog (a flood) or could not replay the
		 * whole gap after a reconnect: data {"sid"} is its newest alert, which the
		 * reload then includes. */
		es.addEventListener('resync', () => {
			if (es === S.es)
				resync();
		});
		es.addEventListener('ack', (ev) => {
			const d = parseData(ev);
			if (d && d.event_id)
				applyAck(d.event_id, d.ack);
		});
		es.addEventListener('error', () => {
			if (es !== S.es)
				return;
			broken = true;
			if (es.readyState === EventSource.CLOSED) {
				/* The browser gave up (HTTP error: maybe the session expired). */
				renderLiveState('down');
				reconnectTimer = setTimeout(async () => {
					try {
						await api('/api/sensors');       /* 401 shows the login box */
						if (es === S.es)
							openStream();
					} catch (e) {
						if (!(e instanceof AuthError))
							reconnectTimer = setTimeout(openStream, RECONNECT_MS);
					}
				}, RECONNECT_MS);
			} else {
				renderLiveState('reconnecting');
			}
		});
	}

	/* The feed broke and the browser reconnected. The server replays only a bounded
	 * backlog (and ends a feed that falls too far behind in a flood), so alerts may be
	 * missing: start again from the server's current first page. While paused, the
	 * resume does that. */
	function resync() {
		if (S.paused) {
			S.overflow = true;
			renderCount();
			return;
		}
		reloadAlerts();
		loadIncidents();
		S.timelineDirty = true;
	}

	/* A feed gap the browser cannot see (the server's replay after a reconnect is
	 * bounded): the number of matching alerts up to our newest must be what we
	 * counted. Alerts newer than our newest (still on their way) do not matter. */
	async function checkConsistency() {
		if (S.paused || S.loading || S.stale || !S.es || S.incoming.length || S.total === null || !S.rows.length)
			return;
		const newest = S.rows[0].sid, have = S.total, gen = S.gen;
		const p = filterParams();
		p.set('limit', '1');
		p.set('before', newest);
		let r;
		try {
			r = await api('/api/alerts?' + p);
		} catch (_) {
			return;
		}
		if (gen !== S.gen || S.rows[0].sid !== newest || S.total !== have || typeof r.total_matching !== 'number')
			return;
		if (r.total_matching + 1 !== have) {
			if ($('alert-list').scrollTop < ROW_H * 3) {
				reloadAlerts();
			} else {
				S.stale = true;     /* reloaded when the analyst is back at the top */
				renderCount();
			}
		}
	}

	function parseData(ev) {
		try {
			return JSON.parse(ev.data);
		} catch (_) {
			return null;
		}
	}

	let liveState = 'connecting';
	function renderLiveState(st) {
		if (st)
			liveState = st;
		const el = $('live-state');
		const label = S.paused ? 'paused' : liveState;
		el.textContent = label;
		el.className = 'live-state ls-' + label;
		document.documentElement.dataset.live = liveState;
	}

	/* An acknowledgement (ours or another analyst's): row, detail and incident. */
	function applyAck(eid, ack) {
		const r = S.byEid.get(eid);
		if (r) {
			r.ack = ack;
			scheduleRender();
		}
		if (S.detail && get(S.detail.alert, 'event.id') === eid) {
			S.detail.ack = ack;
			fill($('detail-ack'), ackBlock(S.detail));
		}
		const inc = S.incidents.get(eid);
		if (inc) {
			inc.ack = ack;          /* in place: an acknowledgement does not reorder */
			if (S.view === 'incidents')
				renderIncidents();
		}
	}

	/* ------------------------------------------------------------ the detail */

	async function openDetail(id) {
		S.selected = id;
		scheduleRender();
		const pane = $('detail');
		pane.hidden = false;
		pane.parentElement.classList.add('with-detail');
		fill(pane, h('p', { class: 'muted' }, 'Loading…'));
		try {
			let d;
			try {
				d = await api('/api/alerts/' + encodeURIComponent(id));
			} catch (e) {
				/* An event.id the server cannot find: maybe one loaded here. */
				const r = S.byEid.get(id) || S.bySid.get(id);
				if (!r || e instanceof AuthError)
					throw e;
				d = { sid: r.sid, alert: r.alert, ack: r.ack, vendors: {} };
			}
			if (S.selected !== id)
				return;
			S.detail = d;
			S.selected = d.sid;
			renderDetail(d);
			scheduleRender();
		} catch (e) {
			if (S.selected === id)
				fill(pane, closeButton(), h('p', { class: 'error' }, 'Cannot load alert ' + id + ': ' + e.message));
			reportError(e);
		}
	}

	function closeDetail() {
		S.selected = null;
		S.detail = null;
		$('detail').hidden = true;
		$('detail').parentElement.classList.remove('with-detail');
		scheduleRender();
		if (location.hash.startsWith('#alert='))
			history.replaceState(null, '', '#alerts');
	}

	const closeButton = () => h('button', {
		type: 'button', class: 'close', title: 'Close', 'aria-label': 'Close',
		on: { click: closeDetail },
	}, '×');

	function renderDetail(d) {
		const a = d.alert || {};
		const ev = get(a, 'onpath.evidence') || {};
		const vendors = d.vendors || {};
		const pane = $('detail');
		fill(pane,
			closeButton(),
			h('h2', null, sevBadge(get(a, 'event.severity')), ' ', get(a, 'event.action') || '(no action)'),
			h('p', { class: 'when' }, fmtTime(a['@timestamp']), ' UTC · sensor ', get(a, 'observer.name') || '?',
				' · confidence ', get(a, 'onpath.confidence') || '?'),
			h('p', { class: 'message' }, a.message || ''),
			h('div', { id: 'detail-ack', class: 'ack-block' }, ackBlock(d)),
			section('Summary', summaryTable(d, vendors)),
			macView(a, ev, vendors),
			dnsView(a, ev, vendors),
			tlsView(ev),
			chainView(a, ev),
			section('All evidence', tree(ev), true),
			section('Raw alert JSON', h('div', null,
				copyable(JSON.stringify(a), 'hidden-code'),
				h('pre', { class: 'raw' }, JSON.stringify(a, null, 2))), true));
		pane.scrollTop = 0;
	}

	function section(title, body, collapsed) {
		if (!body)
			return null;
		if (collapsed)
			return h('details', { class: 'section' }, h('summary', null, title), body);
		return h('section', { class: 'section' }, h('h3', null, title), body);
	}

	/* kv([[label, value-or-node], ...]): a two-column table; empty values skipped. */
	function kv(pairs) {
		const rows = pairs.filter(([, v]) => v !== undefined && v !== null && v !== '' &&
			!(Array.isArray(v) && !v.length));
		if (!rows.length)
			return null;
		return h('table', { class: 'kv' }, rows.map(([k, v]) =>
			h('tr', null, h('th', null, k), h('td', null, v instanceof Node ? v : valueText(v)))));
	}

	function valueText(v) {
		if (Array.isArray(v))
			return v.every((x) => typeof x !== 'object' || x === null) ? v.join(', ') : JSON.stringify(v);
		if (v && typeof v === 'object')
			return JSON.stringify(v);
		return String(v);
	}

	function macWithVendor(mac, vendors) {
		if (!mac)
			return null;
		const v = vendors[mac] || vendors[String(mac).toLowerCase()];
		return h('span', { class: 'mac' }, copyable(mac), v ? h('span', { class: 'vendor' }, v) : null);
	}

	function summaryTable(d, vendors) {
		const a = d.alert || {};
		const tech = asArray(get(a, 'threat.technique.id')).map((id, i) =>
			h('div', null, h('code', null, id), ' ', asArray(get(a, 'threat.technique.name'))[i] || ''));
		const side = (e) => e && h('span', null,
			e.ip ? copyable(e.ip) : null, e.port !== undefined ? h('span', { class: 'muted' }, ' port ' + e.port) : null,
			e.mac ? h('div', null, macWithVendor(e.mac, vendors)) : null);
		const inc = get(a, 'onpath.incident');
		return kv([
			['Event ID', copyable(get(a, 'event.id'))],
			['Community ID', get(a, 'network.community_id') ? copyable(get(a, 'network.community_id')) : null],
			['Stream ID', copyable(d.sid)],
			['Source', side(a.source)],
			['Destination', side(a.destination)],
			['Transport', get(a, 'network.transport')],
			['ATT&CK', tech.length ? h('div', null, tech) : null],
			['Key', get(a, 'onpath.key') ? copyable(get(a, 'onpath.key')) : null],
			['Seen', get(a, 'onpath.count') > 1
				? fmtNum(get(a, 'onpath.count')) + ' times, ' + fmtTime(get(a, 'onpath.first_seen')) + ' – ' + fmtTime(get(a, 'onpath.last_seen'))
				: null],
			['Incident', typeof inc === 'string'
				? h('a', { href: '#incident=' + encodeURIComponent(inc) }, inc) : null],
		]);
	}

	function ackBlock(d) {
		const a = d.alert || {};
		const st = statusOf(d.ack);
		const note = h('input', { type: 'text', class: 'ack-note', placeholder: 'note (optional)', maxlength: '300' });
		if (d.ack && d.ack.note)
			note.value = d.ack.note;
		const act = (status) => async () => {
			try {
				const r = await post('/api/alerts/' + encodeURIComponent(d.sid) + '/ack',
					{ status, note: note.value });
				applyAck((r && r.event_id) || get(a, 'event.id'), (r && r.ack) || { status, note: note.value });
				toast(status === 'open' ? 'Reopened' : 'Marked ' + STATUS_LABEL[status]);
			} catch (e) {
				reportError(e);
			}
		};
		return [
			h('div', { class: 'ack-status' },
				h('span', { class: 'status st-' + st, id: 'detail-status' }, STATUS_LABEL[st]),
				d.ack && d.ack.by ? h('span', { class: 'muted' }, ' by ', d.ack.by,
					d.ack.at ? ' at ' + fmtTime(d.ack.at) : '') : null,
				d.ack && d.ack.note ? h('div', { class: 'ack-note-shown' }, '“', d.ack.note, '”') : null),
			h('div', { class: 'ack-actions' }, note,
				h('button', { type: 'button', id: 'ack-ack', on: { click: act('ack') }, disabled: st === 'ack' }, 'Acknowledge'),
				h('button', { type: 'button', id: 'ack-fp', on: { click: act('fp') }, disabled: st === 'fp' }, 'False positive'),
				h('button', { type: 'button', id: 'ack-open', on: { click: act('open') }, disabled: st === 'open' }, 'Reopen')),
		];
	}

	/* Old vs new MAC (ARP, NDP, DHCP, DNS resolver MAC), each with its vendor. */
	function macView(a, ev, vendors) {
		const oldMacs = [...new Set([...asArray(ev.old_mac), ...asArray(ev.known_macs)])];
		const newMac = ev.new_mac;
		if (!oldMacs.length && !newMac)
			return null;
		const col = (title, cls, macs, extra) => h('div', { class: 'side ' + cls },
			h('h4', null, title),
			macs.length ? macs.map((m) => h('div', null, macWithVendor(m, vendors))) : h('span', { class: 'muted' }, '—'),
			extra);
		const ip = ev.ip || ev.target || ev.sender_ip;
		return section('MAC address' + (ip ? ' of ' + ip : ''), h('div', null,
			h('div', { class: 'sides' },
				col(ev.known_macs ? 'Known (baseline)' : 'Before', 'old', oldMacs,
					kv([['Baseline', ev.baseline], ['First seen', fmtTime(ev.ip_first_seen)], ['Last seen', fmtTime(ev.old_last_seen)]])),
				col('Now', 'new', asArray(newMac),
					kv([['Changes', ev.changes], ['Unsolicited', ev.unsolicited === undefined ? null : String(ev.unsolicited)]]))),
			kv([
				['Role', ev.role],
				['Earlier MACs', ev.previous_macs],
				['ARP', ev.op !== undefined ? (ev.op === 1 ? 'request' : ev.op === 2 ? 'reply' : 'op ' + ev.op) +
					' ' + (ev.sender_ip || '') + ' is-at ' + (ev.sender_mac || '') + ' → ' + (ev.target_ip || '') + ' ' + (ev.target_mac || '') : null],
				['Ethernet', ev.eth_src ? ev.eth_src + ' → ' + (ev.eth_dst || '') : null],
			])));
	}

	/* The query and the competing answers side by side; cells that differ
	 * between answers are marked. */
	function dnsView(a, ev, vendors) {
		const answers = [...asArray(ev.answers), ...asArray(ev.answer), ...asArray(ev.last_answer)]
			.filter((x) => x && typeof x === 'object');
		if (!ev.query && !answers.length)
			return null;
		const q = ev.query || {};
		const query = kv([
			['Name', q.name !== undefined ? copyable(q.name) : null],
			['Type', q.type], ['ID', q.id],
			['Client', q.client ? q.client + (q.client_port !== undefined ? ' port ' + q.client_port : '') : null],
			['Resolver', q.resolver ? q.resolver + (q.resolver_port !== undefined ? ' port ' + q.resolver_port : '') : null],
			['Transport', q.transport],
		]);
		const fields = [
			['Time', (x) => fmtTime(x.ts)], ['From', (x) => x.src_ip], ['MAC', (x) => x.src_mac],
			['IP TTL', (x) => x.ip_ttl], ['ID', (x) => x.id], ['RCODE', (x) => x.rcode],
			['Records', (x) => asArray(x.records).join('\n')],
		];
		let table = null;
		if (answers.length) {
			const head = h('tr', null, h('th'), answers.map((_, i) => h('th', null, answers.length > 1 ? 'Answer ' + (i + 1) : 'Answer')));
			const body = fields.map(([label, f]) => {
				const vals = answers.map((x) => f(x));
				const differ = new Set(vals.map(String)).size > 1;
				return h('tr', { class: differ ? 'differs' : null }, h('th', null, label),
					vals.map((v) => h('td', null, label === 'MAC' && v ? macWithVendor(v, vendors)
						: label === 'Records' ? h('pre', { class: 'records' }, v ?? '') : (v ?? ''))));
			});
			table = h('table', { class: 'compare' }, h('thead', null, head), h('tbody', null, body));
		}
		return section('DNS', h('div', null, query, table,
			kv([['Reason', ev.reason], ['Delay between answers', ev.delay_us !== undefined ? ev.delay_us / 1000 + ' ms' : null],
				['Pending queries', ev.pending ? asArray(ev.pending).map((p) => 'id ' + p.id + ' ' + (p.type || '') + ' at ' + fmtTime(p.query_ts)).join('; ') : null]])));
	}

	/* What the client offered against what the server picked (and used to pick). */
	function tlsView(ev) {
		/* tls.* (client / new / old) and downgrade.* (client_hello / server_hello /
		 * baseline) evidence */
		const obj = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? v : null);
		const hello = (v) => (obj(v) && ['version', 'max_version', 'versions', 'cipher', 'ja4', 'ja4s', 'ja3', 'ja3s']
			.some((k) => v[k] !== undefined) ? v : null);
		const offered = hello(ev.offered) || hello(ev.client) || hello(ev.client_hello);
		const picked = hello(ev.picked) || hello(ev.server_hello) || hello(ev.new) || hello(ev.server);
		const before = [...asArray(ev.old), ...asArray(ev.baseline)].filter(hello);
		if (!(offered && typeof offered === 'object') && !picked)
			return null;
		const cols = [];
		if (offered && typeof offered === 'object')
			cols.push(['Client offered', offered]);
		if (picked)
			cols.push(['Server picked', picked]);
		before.forEach((o, i) => cols.push([before.length > 1 ? 'Before (' + (i + 1) + ')' : 'Before', o]));
		const keys = ['version', 'max_version', 'versions', 'cipher', 'ciphers', 'cipher_suites', 'fallback_scsv', 'alpn', 'sni',
			'ja4', 'ja3', 'ja4s', 'ja3s', 'handshakes', 'first_seen', 'last_seen'];
		const present = keys.filter((k) => cols.some(([, o]) => o[k] !== undefined));
		const rows = present.map((k) => {
			const vals = cols.map(([, o]) => o[k]);
			const major = k === 'version' || k === 'max_version' || k === 'cipher';
			return h('tr', { class: major && new Set(vals.filter((v) => v !== undefined).map(String)).size > 1 ? 'differs' : null },
				h('th', null, k),
				vals.map((v) => h('td', null, v === undefined ? '' : (/^ja/.test(k) ? copyable(v)
					: /_seen$/.test(k) ? fmtTime(v) : valueText(v)))));
		});
		/* a cipher suite as the downgrade detector describes it: {code, name, class} */
		const suite = (c) => (obj(c) ? (c.name || c.code || '') + (c.name && c.code ? ' (' + c.code + ')' : '') +
			(c.class ? ' — ' + c.class : '') : c);
		return section('TLS ' + (typeof ev.server === 'string' ? ev.server : ''), h('div', null,
			h('table', { class: 'compare' }, h('thead', null, h('tr', null, h('th'), cols.map(([t]) => h('th', null, t)))),
				h('tbody', null, rows)),
			kv([
				['Negotiated', ev.negotiated], ['Client offered', typeof ev.client_offered === 'string' ? ev.client_offered : null],
				['Reason', typeof ev.reason === 'string' ? ev.reason : null], ['Outcome', ev.outcome],
				['Fallback version', ev.fallback_version], ['Sentinel', ev.sentinel],
				...Object.entries(ev).filter(([, v]) => obj(v) && v.code !== undefined && v.class !== undefined)
					.map(([k, v]) => [k.replace(/_/g, ' '), suite(v)]),
			])));
	}

	/* The certificate chain as a reader checks it: why it failed first, then each
	 * certificate from the leaf up, the failing one marked. */
	function chainView(a, ev) {
		const chain = asArray(ev.chain).filter((c) => c && typeof c === 'object');
		const issuerChange = ev.new_issuer || ev.old_issuers;
		if (!chain.length && !issuerChange && !ev.product)
			return null;
		const seenAt = toMs(a['@timestamp']);
		const why = kv([
			['Why', ev.verify_error ? h('strong', { class: 'bad' }, ev.verify_error) : null],
			['At depth', ev.verify_error_depth],
			['Trust anchor', ev.trust_anchor],
			['SNI', ev.sni],
			['Interception product', ev.product ? h('span', null, ev.product, ev.category ? ' (' + ev.category + ')' : '',
				ev.sanctioned ? ' — sanctioned' : '', ev.reference ? h('span', null, ' ', link(ev.reference, 'reference')) : null) : null],
			['Certificate age when used', ev.age_s !== undefined ? ev.age_s + ' s' : null],
		]);
		let change = null;
		if (issuerChange) {
			change = h('div', { class: 'sides' },
				h('div', { class: 'side old' }, h('h4', null, 'Issuers before'),
					asArray(ev.old_issuers).map((o) => h('div', null, typeof o === 'object'
						? [o.issuer || '', h('div', { class: 'muted' }, (o.trust ? o.trust + ' · ' : '') + fmtTime(o.first_seen) + ' – ' + fmtTime(o.last_seen))]
						: o)),
					asArray(ev.old_spki_sha256).map((s) => h('div', null, 'key ', copyable(s, 'fp')))),
				h('div', { class: 'side new' }, h('h4', null, 'Now'),
					h('div', null, ev.new_issuer || ''),
					ev.new_spki_sha256 ? h('div', null, 'key ', copyable(ev.new_spki_sha256, 'fp')) : null));
		}
		const certs = chain.map((c, i) => {
			const nb = toMs(c.not_before), na = toMs(c.not_after);
			let validity = fmtTime(c.not_before) + ' – ' + fmtTime(c.not_after);
			let vclass = null;
			if (seenAt !== null && na !== null && seenAt > na) {
				validity += ' (expired when seen)';
				vclass = 'bad';
			} else if (seenAt !== null && nb !== null && seenAt < nb) {
				validity += ' (not yet valid when seen)';
				vclass = 'bad';
			}
			const fails = ev.verify_error_depth === i;
			const role = i === 0 ? 'leaf' : (c.self_signed ? 'root (self-signed)' : 'intermediate');
			return h('div', { class: 'cert' + (fails ? ' fails' : '') },
				h('h4', null, 'Depth ' + i + ' · ' + role, fails ? h('span', { class: 'bad' }, ' — verification fails here') : null),
				kv([
					['Subject', c.subject], ['Issuer', c.issuer],
					['Validity', h('span', { class: vclass }, validity)],
					['Names (SAN)', c.sans], ['Serial', c.serial !== undefined ? copyable(c.serial) : null],
					['Key', (c.key || '') + (c.key_bits ? ' (' + c.key_bits + ' bits)' : '')],
					['Signature', c.sig_alg],
					['CT SCTs', c.sct === undefined ? null : (c.sct ? 'yes' : 'no')],
					['SHA-256', c.sha256 ? copyable(c.sha256, 'fp') : null],
					['SHA-1', c.sha1 ? copyable(c.sha1, 'fp') : null],
					['SPKI SHA-256', c.spki_sha256 ? copyable(c.spki_sha256, 'fp') : null],
				]));
		});
		return section('Certificate chain', h('div', null, why, change, certs));
	}

	/* Any JSON value as a nested list of keys and text values. */
	function tree(v, depth) {
		depth = depth || 0;
		if (v === null || typeof v !== 'object')
			return h('span', { class: 'leaf' }, v === null ? 'null' : String(v));
		if (depth > 12)
			return h('span', { class: 'muted' }, '…');
		const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
		if (!entries.length)
			return h('span', { class: 'muted' }, Array.isArray(v) ? '[]' : '{}');
		return h('ul', { class: 'tree' }, entries.map(([k, x]) =>
			h('li', null, h('span', { class: 'k' }, k), ' ', tree(x, depth + 1))));
	}

	/* ------------------------------------------------------------- timeline */

	let timelineGen = 0;
	async function refreshTimeline() {
		S.timelineDirty = false;
		const gen = ++timelineGen;
		const p = filterParams();
		p.set('buckets', String(TIMELINE_BUCKETS));
		try {
			const t = await api('/api/timeline?' + p);
			if (gen === timelineGen)
				renderTimeline(t);
		} catch (e) {
			if (!(e instanceof AuthError))
				fill($('timeline'), h('p', { class: 'muted' }, 'Timeline unavailable: ' + e.message));
		}
	}

	/* Stacked bars per bucket, one colour per type; a bar's title says what it
	 * holds; clicking a legend entry filters on that type. */
	function renderTimeline(t) {
		const box = $('timeline');
		const buckets = asArray(t && t.buckets);
		const types = asArray(t && t.types);
		noteTypesAndSensors(types, []);
		if (!buckets.length || !types.length) {
			fill(box, h('p', { class: 'muted' }, 'No alerts in the range.'));
			return;
		}
		const W = Math.max(300, box.clientWidth - 16), H = 90, PADL = 34, PADB = 16;
		const totals = buckets.map((b) => Object.values(b.counts || {}).reduce((x, y) => x + (Number(y) || 0), 0));
		const max = Math.max(1, ...totals);
		const bw = (W - PADL) / buckets.length;
		const svg = h('svg:svg', { viewBox: '0 0 ' + W + ' ' + (H + PADB), width: W, height: H + PADB, role: 'img', 'aria-label': 'Alerts per type over time' });
		svg.appendChild(h('svg:text', { x: 2, y: 10, class: 'axis' }, fmtNum(max)));
		svg.appendChild(h('svg:text', { x: 2, y: H, class: 'axis' }, '0'));
		svg.appendChild(h('svg:line', { x1: PADL - 2, y1: H, x2: W, y2: H, class: 'axis-line' }));
		buckets.forEach((b, i) => {
			let y = H;
			for (const ty of types) {
				const n = Number((b.counts || {})[ty]) || 0;
				if (!n)
					continue;
				const bh = Math.max(1, (n / max) * (H - 4));
				y -= bh;
				svg.appendChild(h('svg:rect', {
					x: (PADL + i * bw + 0.5).toFixed(1), y: y.toFixed(1),
					width: Math.max(1, bw - 1).toFixed(1), height: bh.toFixed(1), fill: typeColour(ty),
				}, h('svg:title', null, fmtTime(b.t) + ' – ' + fmtTime(b.t + (t.bucket_ms || 0)) + ': ' + n + ' × ' + ty)));
			}
		});
		svg.appendChild(h('svg:text', { x: PADL, y: H + PADB - 3, class: 'axis' }, fmtTime(t.from || (buckets[0] && buckets[0].t))));
		svg.appendChild(h('svg:text', { x: W, y: H + PADB - 3, class: 'axis', 'text-anchor': 'end' }, fmtTime(t.to)));
		const legend = h('div', { class: 'legend' }, types.map((ty) => h('button', {
			type: 'button', class: 'legend-item', title: 'Show only ' + ty,
			on: { click: () => { $('f-type').value = ty; onFiltersChanged(); } },
		}, h('span', { class: 'swatch', dataset: { type: ty } }), ty)));
		fill(box, svg, legend);
		/* Swatch colours through CSSOM (an inline style attribute would break the CSP). */
		for (const sw of box.querySelectorAll('.swatch'))
			sw.style.background = typeColour(sw.dataset.type);
	}

	/* ------------------------------------------------------------ incidents */

	async function loadIncidents() {
		try {
			const p = new URLSearchParams({ limit: '200' });
			if ($('inc-status').value)
				p.set('status', $('inc-status').value);
			const r = await api('/api/incidents?' + p);
			S.incidents.clear();
			for (const it of asArray(r && r.incidents))
				upsertIncident(it, false, true);
			renderIncidents();
		} catch (e) {
			reportError(e);
		}
	}

	/* The latest update of an incident replaces the earlier one (same event.id). */
	function upsertIncident(it, live, quiet) {
		const inc = it.incident || it.alert || {};
		const eid = get(inc, 'event.id') || it.sid;
		const cur = S.incidents.get(eid);
		if (cur && cur !== it && cmpSid(cur.sid, it.sid) > 0)
			return;           /* an older revision arriving late */
		const entry = { sid: it.sid, incident: inc, ack: it.ack || (cur && cur.ack) || null };
		S.incidents.delete(eid);
		S.incidents.set(eid, entry);   /* Map order: newest update last */
		if (quiet)
			return;
		if (live)
			toast('Incident update: ' + (get(inc, 'destination.ip') || eid));
		if (S.view === 'incidents')
			renderIncidents();
	}

	function renderIncidents() {
		const list = [...S.incidents.values()].reverse();
		const st = $('inc-status').value;
		const shownList = st ? list.filter((x) => statusOf(x.ack) === st) : list;
		fill($('inc-count'), fmtNum(shownList.length) + ' incident' + (shownList.length === 1 ? '' : 's'));
		fill($('incident-list'), shownList.length ? shownList.map(incidentCard)
			: h('p', { class: 'muted' }, 'No incidents.'));
	}

	function incidentCard(it) {
		const a = it.incident;
		const inc = get(a, 'onpath.incident') || {};
		const eid = get(a, 'event.id') || '';
		const sev = get(a, 'event.severity');
		const members = asArray(inc.members).slice().sort((x, y) => String(x.ts).localeCompare(String(y.ts)));
		const chips = (vals, cls) => asArray(vals).map((v) => h('span', { class: 'chip ' + (cls || '') }, valueText(v)));
		const tech = asArray(get(a, 'threat.technique.id')).map((id, i) =>
			h('span', { class: 'chip tech' }, id + ' ' + (asArray(get(a, 'threat.technique.name'))[i] || '')));
		const victim = endpoint(a.destination) || endpoint(a.source);
		return h('article', { class: 'card incident ' + sevClass(sev), dataset: { eid } },
			h('header', null,
				sevBadge(sev), ' ',
				h('strong', null, 'Victim ', victim || '?'), ' ',
				h('span', { class: 'chip state-' + (inc.state || '') }, inc.state || '?'),
				h('span', { class: 'status st-' + statusOf(it.ack) }, STATUS_LABEL[statusOf(it.ack)]),
				h('span', { class: 'muted' }, ' ', fmtTime(get(a, 'event.start')), ' – ', fmtTime(get(a, 'event.end')),
					' · revision ', inc.revision ?? '?', ' · ', get(a, 'observer.name') || '')),
			kv([
				['Attackers', inc.attackers && inc.attackers.length ? h('span', null, chips(inc.attackers, 'attacker')) : null],
				['Phases', inc.phases && inc.phases.length ? h('span', null, chips(inc.phases, 'phase')) : null],
				['ATT&CK', tech.length ? h('span', null, tech) : null],
				['Assessment', inc.assessment],
				['Segment-wide', inc.segment_wide ? 'yes' : null],
				['Sanctioned', inc.sanctioned ? 'yes' : null],
				['Incident ID', copyable(eid)],
			]),
			h('p', { class: 'message' }, a.message || ''),
			incidentAck(it, eid),
			h('table', { class: 'members grid' },
				h('thead', null, h('tr', null, ['Time', 'Sev', 'Alert', 'Phase'].map((x) => h('th', null, x)))),
				h('tbody', null, members.map((m) => h('tr', {
					class: 'member', tabindex: '0', title: 'Open this alert',
					dataset: { id: m.id || '' },
					on: {
						click: () => { location.hash = '#alert=' + encodeURIComponent(m.id); },
						keydown: (e) => { if (e.key === 'Enter') location.hash = '#alert=' + encodeURIComponent(m.id); },
					},
				}, h('td', null, fmtTime(m.ts)), h('td', null, sevBadge(m.severity)),
				h('td', null, m.action || ''), h('td', null, m.phase || ''))))),
			inc.members_dropped ? h('p', { class: 'muted' }, inc.members_dropped + ' more members not listed (bounded)') : null);
	}

	/* Acknowledge an incident: by its event.id on the incidents route (the two
	 * streams' ids collide, so an incident is never acknowledged as an alert). */
	function incidentAck(it, eid) {
		if (!eid)
			return null;
		const st = statusOf(it.ack);
		const note = h('input', { type: 'text', class: 'ack-note inc-note', placeholder: 'note (optional)', maxlength: '300' });
		if (it.ack && it.ack.note)
			note.value = it.ack.note;
		const act = (status) => async () => {
			try {
				const r = await post('/api/incidents/' + encodeURIComponent(eid) + '/ack',
					{ status, note: note.value });
				applyAck((r && r.event_id) || eid, (r && r.ack) || { status, note: note.value });
				toast(status === 'open' ? 'Incident reopened' : 'Incident marked ' + STATUS_LABEL[status]);
			} catch (e) {
				reportError(e);
			}
		};
		return h('div', { class: 'inc-ack' },
			it.ack && it.ack.by ? h('div', { class: 'muted' }, STATUS_LABEL[st], ' by ', it.ack.by,
				it.ack.at ? ' at ' + fmtTime(it.ack.at) : '',
				it.ack.note ? h('span', { class: 'ack-note-shown' }, ' “', it.ack.note, '”') : null) : null,
			h('div', { class: 'ack-actions' }, note,
				h('button', { type: 'button', class: 'inc-ack-ack', on: { click: act('ack') }, disabled: st === 'ack' }, 'Acknowledge'),
				h('button', { type: 'button', class: 'inc-ack-fp', on: { click: act('fp') }, disabled: st === 'fp' }, 'False positive'),
				h('button', { type: 'button', class: 'inc-ack-open', on: { click: act('open') }, disabled: st === 'open' }, 'Reopen')));
	}

	/* -------------------------------------------------------------- sensors */

	async function refreshSensors() {
		try {
			const r = await api('/api/sensors');
			const list = asArray(r && r.sensors);
			const alive = list.filter((s) => s.alive).length;
			const sum = $('sensor-summary');
			sum.textContent = alive + '/' + list.length + ' sensors alive';
			sum.className = list.length && alive < list.length ? 'warn' : '';
			noteTypesAndSensors([], list.map((s) => s.name));
			if (S.view === 'sensors')
				renderSensors(list);
		} catch (e) {
			if (S.view === 'sensors')
				reportError(e);
		}
	}

	function renderSensors(list) {
		const cols = [
			['', (s) => h('span', { class: 'dot ' + (s.alive ? 'alive' : 'dead'), title: s.alive ? 'alive' : 'no heartbeat' })],
			['Sensor', (s) => s.name], ['State', (s) => s.state], ['Host', (s) => s.host], ['Version', (s) => s.version],
			['Last heartbeat', (s) => (s.last_seen ? fmtAge(toMs(Number(s.last_seen))) + ' (' + fmtTime(Number(s.last_seen)) + ')' : '')],
			['pps', (s) => (typeof s.pps === 'number' ? s.pps.toFixed(s.pps < 10 ? 1 : 0) : s.pps)],
			['Packets', (s) => fmtNum(num(s.packets))],
			['Drops', (s) => {
				const d = (num(s.pcap_dropped) || 0) + (num(s.pcap_if_dropped) || 0);
				return h('span', { class: d ? 'bad' : null }, fmtNum(d));
			}],
			['Decode errors', (s) => fmtNum(num(s.decode_errors))],
			['Alerts', (s) => fmtNum(num(s.alerts ?? s.alerts_sent))],
			['Spooled', (s) => h('span', { class: num(s.spooled) ? 'warn' : null }, fmtNum(num(s.spooled)))],
			['Reconnects', (s) => fmtNum(num(s.reconnects))],
		];
		fill($('sensor-table'),
			h('thead', null, h('tr', null, cols.map(([t]) => h('th', null, t)))),
			h('tbody', null, list.length ? list.map((s) => h('tr', { class: s.alive ? null : 'dead' },
				cols.map(([, f]) => { const v = f(s); return h('td', null, v ?? ''); })))
				: h('tr', null, h('td', { colspan: cols.length, class: 'muted' }, 'No sensor has reported yet.'))));
	}

	function num(v) {
		if (v === undefined || v === null || v === '')
			return undefined;
		const n = Number(v);
		return Number.isNaN(n) ? v : n;
	}

	/* ------------------------------------------------------------ inventory */

	const INV_LABEL = { arp: 'ARP table', issuers: 'Issuers per name', resolvers: 'DNS resolvers', dhcp: 'DHCP servers', ssh: 'SSH servers', tls: 'TLS servers' };

	async function loadInventoryIndex() {
		try {
			const r = await api('/api/inventory');
			const kinds = asArray(r && r.kinds).length ? r.kinds : Object.keys(INV_LABEL);
			fill($('inv-kinds'), kinds.map((k) => h('button', {
				type: 'button', role: 'tab', class: k === S.inv.kind ? 'active' : null, dataset: { kind: k },
				on: { click: () => { location.hash = '#inventory=' + k; } },
			}, INV_LABEL[k] || k)));
			const sel = $('inv-sensor');
			const cur = sel.value || S.inv.sensor;
			const sensors = asArray(r && r.sensors).map((s) => (typeof s === 'object' ? s.name : s));
			fill(sel, sensors.map((s) => h('option', { value: s }, s)));
			if (sensors.includes(cur))
				sel.value = cur;
			if (!sensors.length)
				fill($('inventory'), h('p', { class: 'muted' }, 'No sensor has sent a baseline yet (sensors send it every baseline_interval and at exit).'));
			else
				loadInventory();
		} catch (e) {
			reportError(e);
		}
	}

	async function loadInventory() {
		for (const b of $('inv-kinds').children)
			b.classList.toggle('active', b.dataset.kind === S.inv.kind);
		const sensor = $('inv-sensor').value;
		if (!sensor)
			return;
		S.inv.sensor = sensor;
		try {
			const r = await api('/api/inventory/' + encodeURIComponent(S.inv.kind) + '?sensor=' + encodeURIComponent(sensor));
			S.inv.items = asArray(r && r.items);
			renderInventory();
		} catch (e) {
			fill($('inventory'), h('p', { class: 'muted' }, 'Nothing for ' + S.inv.kind + ': ' + e.message));
			if (!(e instanceof AuthError) && e.status !== 404)
				reportError(e);
		}
	}

	function renderInventory() {
		const q = $('inv-q').value.trim().toLowerCase();
		const items = q ? S.inv.items.filter((x) => JSON.stringify(x).toLowerCase().includes(q)) : S.inv.items;
		const showing = items.slice(0, INVENTORY_MAX_ROWS);
		fill($('inv-count'), fmtNum(items.length) + ' entr' + (items.length === 1 ? 'y' : 'ies') +
			(items.length > showing.length ? ' (first ' + fmtNum(showing.length) + ' shown; filter to narrow)' : ''));
		const render = { arp: arpTable, issuers: issuerTable }[S.inv.kind] || genericTable;
		fill($('inventory'), showing.length ? render(showing) : h('p', { class: 'muted' }, 'Empty.'));
	}

	/* The ARP table: current binding, then its change history (prev[]). */
	function arpTable(items) {
		const hist = (p) => asArray(p).map((x) => h('div', { class: 'hist' }, typeof x === 'object'
			? [x.mac || '', ' ', h('span', { class: 'muted' }, [x.first || x.since, x.last || x.until].filter((t) => t !== undefined).map(fmtTime).join(' – '))]
			: String(x)));
		return table(['IP', 'MAC', 'Vendor', 'VLAN', 'First seen', 'Last seen', 'MAC since', 'Changes', 'Earlier MACs'],
			items.map((b) => [b.ip, b.mac, b.vendor, b.vlan, fmtTime(b.first), fmtTime(b.last), fmtTime(b.since),
				h('span', { class: b.changes ? 'warn' : null }, String(b.changes ?? '')), hist(b.prev)]));
	}

	/* Issuers seen per server name (the issuer detector's baseline: n = name,
	 * i = issuers {dn, f first, l last}, k = leaf keys {s spki sha256, f, l}). */
	function issuerTable(items) {
		return table(['Name', 'Issuers seen', 'Leaf keys seen'], items.map((n) => [
			n.n ?? n.name ?? '',
			asArray(n.i ?? n.issuers).map((i) => h('div', null, typeof i === 'object' ? [i.dn ?? i.issuer ?? '', ' ',
				h('span', { class: 'muted' }, fmtTime(i.f ?? i.first_seen) + ' – ' + fmtTime(i.l ?? i.last_seen))] : String(i))),
			asArray(n.k ?? n.keys).map((k) => h('div', null, typeof k === 'object' ? [copyable(k.s ?? k.spki_sha256 ?? '', 'fp'), ' ',
				h('span', { class: 'muted' }, fmtTime(k.f) + ' – ' + fmtTime(k.l))] : String(k))),
		]));
	}

	const TIME_KEYS = /^(f|l|first|last|since|ts|seen|first_seen|last_seen|until)$/;

	function genericTable(items) {
		const keys = [];
		for (const it of items.slice(0, 50))
			for (const k of Object.keys(it || {}))
				if (!keys.includes(k))
					keys.push(k);
		return table(keys, items.map((it) => keys.map((k) => {
			const v = it ? it[k] : undefined;
			if (v === undefined)
				return '';
			if (TIME_KEYS.test(k) && (typeof v === 'number' || typeof v === 'string'))
				return fmtTime(v);
			return valueText(v);
		})));
	}

	function table(head, rows) {
		return h('table', { class: 'grid' },
			h('thead', null, h('tr', null, head.map((x) => h('th', null, x)))),
			h('tbody', null, rows.map((r) => h('tr', null, r.map((c) => h('td', null, c ?? ''))))));
	}

	/* ----------------------------------------------------------------- login */

	function showLogin() {
		for (const t of timers)
			clearInterval(t);
		timers = [];
		if (S.es) {
			S.es.close();
			S.es = null;
		}
		renderLiveState('signed out');
		$('login').hidden = false;
		$('login-token').focus();
	}

	async function submitLogin(e) {
		e.preventDefault();
		const token = $('login-token').value;
		const user = $('login-user').value;
		const password = $('login-password').value;
		const body = token ? { token } : { user, password };
		try {
			await post('/api/login', body);
			$('login').hidden = true;
			$('login-token').value = '';
			$('login-password').value = '';
			fill($('login-error'));
			start();
		} catch (err) {
			fill($('login-error'), err.status === 401 ? 'Wrong token or password.' : 'Sign-in failed: ' + err.message);
		}
	}

	async function logout() {
		try {
			await post('/api/logout');
		} catch (_) {
			/* signed out either way */
		}
		showLogin();
	}

	/* ---------------------------------------------------------------- router */

	/* #alerts, #alert=<sid or event.id>, #incidents, #incident=<event.id>,
	 * #sensors, #inventory, #inventory=<kind> */
	function route() {
		const hash = decodeURIComponent(location.hash.slice(1));
		const [name, arg] = hash.split(/=(.*)/s);
		let view = { alert: 'alerts', incident: 'incidents', inventory: 'inventory' }[name] || name;
		if (!['alerts', 'incidents', 'sensors', 'inventory'].includes(view))
			view = 'alerts';
		S.view = view;
		for (const sec of document.querySelectorAll('main > .view'))
			sec.hidden = sec.id !== 'view-' + view;
		for (const a of document.querySelectorAll('#tabs a'))
			a.classList.toggle('active', a.dataset.view === view);
		if (view === 'alerts') {
			if (name === 'alert' && arg)
				openDetail(arg);
			scheduleRender();
		} else if (view === 'incidents') {
			renderIncidents();
			if (name === 'incident' && arg) {
				const card = document.querySelector('.incident[data-eid="' + CSS.escape(arg) + '"]');
				if (card) {
					card.scrollIntoView({ block: 'start' });
					card.classList.add('flash');
				}
			}
		} else if (view === 'sensors') {
			refreshSensors();
		} else if (view === 'inventory') {
			if (name === 'inventory' && arg)
				S.inv.kind = arg;
			loadInventoryIndex();
		}
	}

	/* ------------------------------------------------------------------ start */

	let started = false;
	let timers = [];

	/* (Re)loads everything; called at load and after signing in. */
	async function start() {
		for (const t of timers)
			clearInterval(t);
		timers = [
			setInterval(() => { if (S.timelineDirty && S.view === 'alerts') refreshTimeline(); }, TIMELINE_REFRESH_MS),
			setInterval(refreshSensors, SENSORS_REFRESH_MS),
			setInterval(checkConsistency, CONSISTENCY_MS),
		];
		try {
			await api('/api/sensors').then((r) => noteTypesAndSensors([], asArray(r && r.sensors).map((s) => s.name)));
		} catch (e) {
			reportError(e);
			if (e instanceof AuthError)
				return;
		}
		updateExportLinks();
		reloadAlerts();
		refreshTimeline();
		refreshSensors();
		loadIncidents();
		route();
		document.documentElement.dataset.ready = '1';
	}

	function wire() {
		if (started)
			return;
		started = true;
		const list = $('alert-list');
		list.addEventListener('scroll', () => {
			if (S.stale && list.scrollTop === 0) {
				reloadAlerts();
				return;
			}
			scheduleRender();
			maybeLoadMore();
		}, { passive: true });
		list.addEventListener('click', (e) => {
			const row = e.target.closest('.row[data-sid]');
			if (row)
				location.hash = '#alert=' + encodeURIComponent(row.dataset.sid);
		});
		/* Keyboard: j/k or arrows move through the list, Esc closes the detail. */
		list.addEventListener('keydown', (e) => {
			if (!['ArrowDown', 'ArrowUp', 'j', 'k'].includes(e.key) || !S.rows.length)
				return;
			e.preventDefault();
			let i = S.rows.findIndex((r) => r.sid === S.selected);
			i = Math.max(0, Math.min(S.rows.length - 1, i + ((e.key === 'ArrowDown' || e.key === 'j') ? 1 : -1)));
			const top = i * ROW_H;
			if (top < list.scrollTop || top + ROW_H > list.scrollTop + list.clientHeight)
				list.scrollTop = top - list.clientHeight / 2;
			location.hash = '#alert=' + encodeURIComponent(S.rows[i].sid);
		});
		document.addEventListener('keydown', (e) => {
			if (e.key === 'Escape' && !$('detail').hidden)
				closeDetail();
		});
		window.addEventListener('resize', () => {
			scheduleRender();
			S.timelineDirty = true;
		});
		window.addEventListener('hashchange', route);

		let debounce = 0;
		$('f-q').addEventListener('input', () => {
			clearTimeout(debounce);
			debounce = setTimeout(onFiltersChanged, SEARCH_DEBOUNCE_MS);
		});
		$('filters').addEventListener('submit', (e) => e.preventDefault());
		for (const id of ['f-type', 'f-sev', 'f-sensor', 'f-status', 'f-range'])
			$(id).addEventListener('change', onFiltersChanged);
		$('f-clear').addEventListener('click', () => {
			for (const id of ['f-q', 'f-type', 'f-sev', 'f-sensor', 'f-status', 'f-range'])
				$(id).value = '';
			onFiltersChanged();
		});
		$('pause').addEventListener('click', () => setPaused(!S.paused));
		$('logout').addEventListener('click', logout);
		$('login-form').addEventListener('submit', submitLogin);
		$('inc-status').addEventListener('change', loadIncidents);
		$('inv-sensor').addEventListener('change', loadInventory);
		$('inv-q').addEventListener('input', () => {
			clearTimeout(debounce);
			debounce = setTimeout(renderInventory, SEARCH_DEBOUNCE_MS);
		});
	}

	document.addEventListener('DOMContentLoaded', () => {
		wire();
		start();
	});
})();
