// tests/dashboard-browser.mjs - the dashboard page in headless Chromium (driven by
// tests/dashboard-browser.sh, which starts redis-server and onpath-dashboard and sets
// the environment below). Each check prints "ok N - what"; the first failure prints
// "not ok N - what: why", saves a screenshot and exits 1.
//
// Environment: BASE_URL (the dashboard), TOKEN, REDIS_PORT, ONPATH, PCAP, SENSOR_CONFIG,
// NODE_DIR (where playwright-core is installed), ARTIFACTS (screenshots), CHROMIUM,
// BULK (alerts for the speed check; 0 = skip), MAX_BLOCK_MS (its responsiveness bound).
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const env = (k, d) => {
	const v = process.env[k] ?? d;
	if (v === undefined)
		throw new Error('environment variable ' + k + ' is not set');
	return v;
};
const BASE = env('BASE_URL');
const TOKEN = env('TOKEN');
const REDIS_PORT = env('REDIS_PORT');
const ARTIFACTS = env('ARTIFACTS');
const BULK = Number(env('BULK', '100000'));
const WAIT = 20000;   /* ms for anything that should happen "live" */
/* Longest the page may be unresponsive while BULK alerts stream in. Measured 200-700 ms
 * on a 2-core VM (ASan server included); the margin is for make -j check beside it. */
const MAX_BLOCK_MS = Number(env('MAX_BLOCK_MS', '1500'));

const require = createRequire(env('NODE_DIR') + '/package.json');
const { chromium } = require('playwright-core');
mkdirSync(ARTIFACTS, { recursive: true });

let n = 0;
let page = null;
async function check(what, fn) {
	n++;
	try {
		await fn();
		console.log('ok ' + n + ' - ' + what);
	} catch (e) {
		console.log('not ok ' + n + ' - ' + what + ': ' + (e && e.message ? e.message.split('\n')[0] : e));
		if (page)
			await page.screenshot({ path: ARTIFACTS + '/failure.png' }).catch(() => {});
		throw e;
	}
}
function assert(cond, msg) {
	if (!cond)
		throw new Error(msg);
}
const shot = (p, name) => p.screenshot({ path: ARTIFACTS + '/' + name + '.png' });

/* redis-cli with the last argument from stdin (-x): bytes that are not UTF-8 pass. */
function redis(args, input) {
	const r = spawnSync('redis-cli', ['-p', REDIS_PORT, ...(input !== undefined ? ['-x'] : []), ...args],
		{ input: input !== undefined ? input : undefined, encoding: 'buffer' });
	if (r.status !== 0 || /^ERR|^WRONGTYPE/.test(String(r.stdout)))
		throw new Error('redis-cli ' + args.join(' ') + ': ' + String(r.stdout) + String(r.stderr));
	return String(r.stdout).trim();
}

function xaddAlert(alert, rawJson) {
	return redis(['XADD', 'onpath:alerts', '*', 'id', alert.event.id, 'type', alert.event.action,
		'severity', String(alert.event.severity), 'sensor', alert.observer.name, 'json'],
	rawJson || Buffer.from(JSON.stringify(alert)));
}

/* A row of the live list by its type column (exact). */
const rowOfType = (p, type) => p.locator('#alert-list .row').filter({
	has: p.locator('.c-type', { hasText: new RegExp('^' + type.replace(/\./g, '\\.') + '$') }),
});

async function login(p) {
	await p.goto(BASE + '/');
	await p.waitForSelector('#login:not([hidden])', { timeout: WAIT });
	await p.fill('#login-token', TOKEN);
	await p.click('#login-form button[type=submit]');
	await p.waitForSelector('html[data-ready="1"]', { timeout: WAIT });
	await p.waitForSelector('html[data-live="live"]', { timeout: WAIT });
}

/* Every page records script errors and CSP violations; any is a failure. */
async function watch(p, label) {
	const problems = [];
	p.on('pageerror', (e) => problems.push(label + ': page error: ' + e.message));
	p.on('console', (m) => {
		if (m.type() === 'error' && !/status of 40[14]/.test(m.text()))
			problems.push(label + ': console error: ' + m.text());
	});
	await p.addInitScript(() => {
		window.__csp = [];
		document.addEventListener('securitypolicyviolation',
			(e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
	});
	return problems;
}

const browser = await chromium.launch({
	executablePath: env('CHROMIUM', '/usr/bin/chromium'),
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
let rc = 0;
try {
	const ctx = await browser.newContext({ viewport: { width: 1500, height: 950 } });
	page = await ctx.newPage();
	const problems = await watch(page, 'analyst 1');

	await check('the page is served with the CSP and asks to sign in (401)', async () => {
		const r = await fetch(BASE + '/');
		const csp = r.headers.get('content-security-policy') || '';
		assert(/default-src 'self'/.test(csp), 'CSP header: ' + csp);
		assert(r.headers.get('x-content-type-options') === 'nosniff', 'no nosniff header');
		const api = await fetch(BASE + '/api/alerts');
		assert(api.status === 401, '/api/alerts without auth gave ' + api.status);
		await page.goto(BASE + '/');
		await page.waitForSelector('#login:not([hidden])', { timeout: WAIT });
	});

	await check('a wrong token is refused, the right one signs in and the stream goes live', async () => {
		await page.fill('#login-token', 'not-the-token');
		await page.click('#login-form button[type=submit]');
		await page.waitForFunction(() => document.getElementById('login-error').textContent.length > 0, null, { timeout: WAIT });
		await page.fill('#login-token', TOKEN);
		await page.click('#login-form button[type=submit]');
		await page.waitForSelector('html[data-ready="1"]', { timeout: WAIT });
		await page.waitForSelector('html[data-live="live"]', { timeout: WAIT });
		assert(await page.locator('#login').isHidden(), 'login box still shown');
	});

	/* A second analyst, signed in before anything happens: sees alerts and
	 * acknowledgements arrive live. */
	const ctx2 = await browser.newContext({ viewport: { width: 1300, height: 800 } });
	const page2 = await ctx2.newPage();
	const problems2 = await watch(page2, 'analyst 2');
	await login(page2);

	await check('the sensor replays the attack into Redis: alerts appear live, without reload', async () => {
		await page.evaluate(() => { window.__sameDocument = true; });
		const r = spawnSync(env('ONPATH'), ['-r', env('PCAP'), '-c', env('SENSOR_CONFIG'),
			'-o', 'redis://127.0.0.1:' + REDIS_PORT, '-n', 'lab1', '--spool-dir', '-', '--no-stats', '-q'],
		{ encoding: 'utf8' });
		assert(r.status === 0, 'onpath exited ' + r.status + ': ' + r.stderr);
		for (const t of ['arp.ip_mac_changed', 'dns.unexpected_resolver', 'issuer.changed', 'issuer.interception_product'])
			await rowOfType(page, t).first().waitFor({ state: 'attached', timeout: WAIT });
		assert(await page.evaluate(() => window.__sameDocument === true), 'the page was reloaded');
		await rowOfType(page2, 'arp.ip_mac_changed').first().waitFor({ state: 'attached', timeout: WAIT });
		/* newest first */
		const times = await page.locator('#alert-list .row .c-time').allTextContents();
		const sorted = [...times].sort().reverse();
		assert(JSON.stringify(times) === JSON.stringify(sorted), 'not newest first: ' + times.join(', '));
		await shot(page, 'alerts-live');
	});

	await check('the timeline shows the alert types and the sensor is listed', async () => {
		await page.waitForSelector('#timeline svg rect', { timeout: WAIT });
		await page.waitForFunction(() => document.getElementById('timeline').textContent.includes('arp.ip_mac_changed'), null, { timeout: WAIT });
		await page.waitForFunction(() => [...document.querySelectorAll('#f-sensor option')].some((o) => o.value === 'lab1'), null, { timeout: WAIT });
	});

	await check('the ARP alert detail shows the old and the new MAC with vendor', async () => {
		await rowOfType(page, 'arp.ip_mac_changed').first().click();
		await page.waitForSelector('#detail h2', { timeout: WAIT });
		await page.waitForFunction(() => document.querySelector('#detail h2').textContent.includes('arp.ip_mac_changed'), null, { timeout: WAIT });
		const old = await page.locator('#detail .side.old').textContent();
		const now = await page.locator('#detail .side.new').textContent();
		assert(old.includes('02:00:00:00:00:14'), 'old MAC missing: ' + old);
		assert(now.includes('02:00:00:00:00:66'), 'new MAC missing: ' + now);
		assert(/locally administered/i.test(now), 'no vendor for the new MAC: ' + now);
		const detail = await page.locator('#detail').textContent();
		assert(detail.includes('T1557.002'), 'no ATT&CK technique');
		await shot(page, 'detail-arp');
	});

	await check('the certificate alert shows the chain, why it failed and the fingerprints', async () => {
		await rowOfType(page, 'issuer.changed').first().click();
		await page.waitForFunction(() => document.querySelector('#detail h2')?.textContent.includes('issuer.changed'), null, { timeout: WAIT });
		const txt = await page.locator('#detail').textContent();
		for (const s of ['CN=mitmproxy,O=mitmproxy', 'self-signed certificate in certificate chain',
			'Depth 0', 'Depth 1', '0192356711c5f6c102d2d52a84237ae8486fe9069cdb9a147e982ba0cad919fd',
			'CN=Example Public Root R1'])
			assert(txt.includes(s), 'missing: ' + s);
		assert(await page.locator('#detail .cert.fails').count() === 1, 'the failing certificate is not marked');
		await shot(page, 'detail-certificate');
	});

	await check('the DNS alert shows the query and the answer', async () => {
		await rowOfType(page, 'dns.unexpected_resolver').first().click();
		await page.waitForFunction(() => document.querySelector('#detail h2')?.textContent.includes('dns.unexpected_resolver'), null, { timeout: WAIT });
		const txt = await page.locator('#detail table.compare').first().textContent();
		assert(txt.includes('bank.example 300 A 203.0.113.20'), 'answer records missing: ' + txt);
	});

	await check('filter by type, then by free text', async () => {
		await page.selectOption('#f-type', 'arp.ip_mac_changed');
		await page.waitForFunction(() => {
			const t = [...document.querySelectorAll('#alert-list .row .c-type')].map((e) => e.textContent);
			return t.length > 0 && t.every((x) => x === 'arp.ip_mac_changed');
		}, null, { timeout: WAIT });
		await page.selectOption('#f-type', 'issuer.');
		await page.waitForFunction(() => {
			const t = [...document.querySelectorAll('#alert-list .row .c-type')].map((e) => e.textContent);
			return t.length >= 4 && t.every((x) => x.startsWith('issuer.'));
		}, null, { timeout: WAIT });
		await page.selectOption('#f-type', '');
		await page.fill('#f-q', 'gateway');
		await page.waitForFunction(() => {
			const t = [...document.querySelectorAll('#alert-list .row .c-type')].map((e) => e.textContent);
			return t.length > 0 && t.includes('arp.ip_mac_changed') && !t.includes('issuer.changed');
		}, null, { timeout: WAIT });
		await shot(page, 'filtered');
		await page.click('#f-clear');
		await rowOfType(page, 'issuer.changed').first().waitFor({ state: 'attached', timeout: WAIT });
	});

	await check('acknowledge: the status shows here and, live, to the other analyst', async () => {
		await rowOfType(page2, 'arp.ip_mac_changed').first().waitFor({ state: 'attached', timeout: WAIT });
		await rowOfType(page, 'arp.ip_mac_changed').first().click();
		await page.waitForFunction(() => document.querySelector('#detail h2')?.textContent.includes('arp.ip_mac_changed'), null, { timeout: WAIT });
		await page.fill('#detail .ack-note', 'gateway maintenance <b>not</b> an attack');
		await page.click('#ack-ack');
		await page.waitForFunction(() => document.getElementById('detail-status')?.textContent === 'acknowledged', null, { timeout: WAIT });
		await page.waitForFunction(() => document.querySelector('#detail .ack-note-shown')?.textContent.includes('<b>not</b>'), null, { timeout: WAIT });
		await rowOfType(page, 'arp.ip_mac_changed').first().locator('.status.st-ack').waitFor({ state: 'attached', timeout: WAIT });
		await rowOfType(page2, 'arp.ip_mac_changed').first().locator('.status.st-ack').waitFor({ state: 'attached', timeout: WAIT });
		await shot(page, 'acknowledged');
		await shot(page2, 'acknowledged-other-analyst');
	});

	await check('status filter: acknowledged shows only the acknowledged alert', async () => {
		await page.selectOption('#f-status', 'ack');
		await page.waitForFunction(() => {
			const t = [...document.querySelectorAll('#alert-list .row .c-type')].map((e) => e.textContent);
			return t.length === 1 && t[0] === 'arp.ip_mac_changed';
		}, null, { timeout: WAIT });
		await page.selectOption('#f-status', '');
		await rowOfType(page, 'issuer.changed').first().waitFor({ state: 'attached', timeout: WAIT });
	});

	await check('export of the filtered list as CSV and JSON lines', async () => {
		await page.selectOption('#f-type', 'issuer.');
		await page.waitForFunction(() => document.getElementById('export-csv').href.includes('type=issuer.'), null, { timeout: WAIT });
		const out = await page.evaluate(async () => {
			const csv = await (await fetch(document.getElementById('export-csv').href)).text();
			const jl = await (await fetch(document.getElementById('export-jsonl').href)).text();
			return { csv, jl };
		});
		const lines = out.jl.split('\n').filter((l) => l.trim());
		assert(lines.length >= 4, 'jsonl has ' + lines.length + ' lines');
		/* a line is {sid, alert, ack} (or the bare alert) */
		assert(lines.every((l) => { const o = JSON.parse(l); return (o.alert || o).event.action.startsWith('issuer.'); }),
			'jsonl not filtered');
		const csvLines = out.csv.split(/\r?\n/).filter((l) => l.trim());
		assert(/^"?timestamp"?,/.test(csvLines[0]), 'csv header: ' + csvLines[0]);
		assert(csvLines.length === lines.length + 1, 'csv rows ' + (csvLines.length - 1) + ' vs jsonl ' + lines.length);
		await page.selectOption('#f-type', '');
	});

	await check('incidents: victim, attackers, phases, techniques, ordered members; a member opens its alert', async () => {
		await page.click('#tabs a[data-view=incidents]');
		const card = page.locator('#incident-list .incident').first();
		await card.waitFor({ state: 'attached', timeout: WAIT });
		await page.waitForFunction(() => document.querySelectorAll('#incident-list .incident tr.member').length >= 7, null, { timeout: WAIT });
		assert(await page.locator('#incident-list .incident').count() === 1, 'expected one incident (updated in place)');
		const txt = await card.textContent();
		for (const s of ['192.0.2.10', '02:00:00:00:00:66', 'mitmproxy', 'positioning', 'manipulation', 'T1557.002'])
			assert(txt.includes(s), 'incident lacks ' + s);
		const acts = await card.locator('tr.member td:nth-child(3)').allTextContents();
		assert(acts[0] === 'arp.ip_mac_changed', 'first member is ' + acts[0]);
		const ts = await card.locator('tr.member td:nth-child(1)').allTextContents();
		assert(JSON.stringify(ts) === JSON.stringify([...ts].sort()), 'members not in time order');
		await shot(page, 'incidents');
		await page.locator('#incident-list .incident tr.member').first().click();
		await page.waitForFunction(() => !document.getElementById('view-alerts').hidden &&
			document.querySelector('#detail h2')?.textContent.includes('arp.ip_mac_changed'), null, { timeout: WAIT });
	});

	/* The sensor writes alerts and incidents in one pipeline, so an incident's stream
	 * id is also an alert's: the acknowledgement must land on the incident alone. */
	await check('acknowledge an incident: its card and the other analyst\'s show it, no alert changes', async () => {
		await page2.click('#tabs a[data-view=incidents]');
		await page2.locator('#incident-list .incident').first().waitFor({ state: 'attached', timeout: WAIT });
		await page.click('#tabs a[data-view=incidents]');
		const card = page.locator('#incident-list .incident').first();
		await card.waitFor({ state: 'attached', timeout: WAIT });
		const eid = await card.getAttribute('data-eid');
		const before = await page.evaluate(async () =>
			(await (await fetch('/api/alerts?status=ack&limit=500')).json()).alerts.map((x) => x.sid));
		await card.locator('.inc-note').fill('contained <i>by</i> the NOC');
		await card.locator('.inc-ack-ack').click();
		await page.locator('#incident-list .incident').first().locator('.status.st-ack').waitFor({ state: 'attached', timeout: WAIT });
		await page.waitForFunction(() => document.querySelector('#incident-list .incident .ack-note-shown')?.textContent.includes('<i>by</i>'), null, { timeout: WAIT });
		await page2.locator('#incident-list .incident').first().locator('.status.st-ack').waitFor({ state: 'attached', timeout: WAIT });
		const after = await page.evaluate(async (eid) => {
			const inc = await (await fetch('/api/incidents?status=ack')).json();
			const one = await (await fetch('/api/incidents/' + encodeURIComponent(eid))).json();
			const al = await (await fetch('/api/alerts?status=ack&limit=500')).json();
			return { inc: inc.incidents.map((x) => x.incident.event.id), one, alerts: al.alerts.map((x) => x.sid) };
		}, eid);
		assert(after.inc.length === 1 && after.inc[0] === eid, 'acknowledged incidents: ' + JSON.stringify(after.inc));
		assert(after.one.ack && after.one.ack.status === 'ack' && after.one.incident.event.id === eid,
			'GET /api/incidents/<event.id>: ' + JSON.stringify(after.one).slice(0, 200));
		assert(JSON.stringify(after.alerts) === JSON.stringify(before),
			'an alert changed status: ' + JSON.stringify(before) + ' -> ' + JSON.stringify(after.alerts));
		await shot(page, 'incident-acknowledged');
		await page2.click('#tabs a[data-view=alerts]');
		await page.click('#tabs a[data-view=alerts]');
	});

	await check('pause holds new alerts back, resume adds them', async () => {
		await page.click('#pause');
		await page.waitForFunction(() => document.getElementById('live-state').textContent === 'paused', null, { timeout: WAIT });
		const before = await page.locator('#alert-list .row').count();
		xaddAlert(makeAlert('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-0000000000000001', 'dns.answer_race', 8,
			'paused-check answer race for pause.example', {}));
		await page.waitForFunction(() => /Resume \(1 new\)/.test(document.getElementById('pause').textContent), null, { timeout: WAIT });
		assert(await page.locator('#alert-list .row .c-msg', { hasText: 'paused-check' }).count() === 0, 'a paused list grew');
		assert(await page.locator('#alert-list .row').count() === before, 'rows changed while paused');
		await page.click('#pause');
		await page.locator('#alert-list .row .c-msg', { hasText: 'paused-check' }).waitFor({ state: 'attached', timeout: WAIT });
	});

	await check('a hostile alert (markup, quotes, bad UTF-8 in SNI, DNS name, certificate) stays text', async () => {
		const evil = {
			sni: '<script>window.__pwned=1</script>"\'\\xff\\xfe',
			dns: '<img src=x onerror="window.__pwned=2">.\u202egnp.exe\u0007.example',
			subject: 'CN="><svg onload=window.__pwned=3>,O=\'\\xc3\\x28',
			message: 'hostile <iframe src="javascript:window.__pwned=4"></iframe> & \'quotes\' "here"',
		};
		const alert = makeAlert('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-0000000000000001', 'issuer.untrusted_chain', 9,
			evil.message, {
				sni: evil.sni, verify_error: '<b>bad</b>', verify_error_depth: 0, trust_anchor: 'none',
				query: { name: evil.dns, type: 'A', id: 1, client: '192.0.2.10', resolver: '192.0.2.53' },
				answers: [{ ts: '2024-03-01T12:00:00Z', src_ip: '192.0.2.53', src_mac: '02:00:00:00:00:53', records: [evil.dns + ' 60 A 10.0.0.5'] },
					{ ts: '2024-03-01T12:00:00.01Z', src_ip: '192.0.2.53', src_mac: '02:00:00:00:00:66', records: ['<script>window.__pwned=5</script> 60 A 203.0.113.66'] }],
				chain: [{ subject: evil.subject, issuer: evil.subject, not_before: '2024-01-01T00:00:00Z', not_after: '2025-01-01T00:00:00Z',
					sha256: '"><script>window.__pwned=6</script>', sans: [evil.sni] }],
			});
		alert.tls = { client: { server_name: evil.sni } };
		alert.dns = { question: { name: evil.dns } };
		xaddAlert(alert);
		/* The same, raw: bytes that are not UTF-8 inside the JSON (a sensor never
		 * writes them; the server must not choke, the page must not break). */
		const rawAlert = makeAlert('cccccccccccccccccccccccccccccccc-0000000000000001', 'issuer.untrusted_chain', 9,
			'raw-bytes XX<script>window.__pwned=7</script>', { sni: 'raw.example' });
		const bad = Buffer.from(JSON.stringify(rawAlert), 'utf8');
		const at = bad.indexOf('XX');
		bad[at] = 0xff;          /* not UTF-8 */
		bad[at + 1] = 0xc0;      /* an overlong lead byte */
		xaddAlert(rawAlert, bad);
		const row = page.locator('#alert-list .row .c-msg', { hasText: 'hostile <iframe' });
		await row.first().waitFor({ state: 'attached', timeout: WAIT });
		await row.first().click();
		await page.waitForFunction(() => document.querySelector('#detail .message')?.textContent.startsWith('hostile <iframe'), null, { timeout: WAIT });
		const txt = await page.locator('#detail').textContent();
		for (const s of ['<script>window.__pwned=1</script>"\'\\xff\\xfe', '<img src=x onerror="window.__pwned=2">',
			'\\u202egnp.exe\\u0007', 'CN="><svg onload=window.__pwned=3>', '<b>bad</b>', '<script>window.__pwned=5</script>'])
			assert(txt.includes(s), 'not shown literally: ' + s);
		await page.waitForTimeout(1500);   /* a planted onerror/onload would have fired by now */
		const state = await page.evaluate(() => ({
			pwned: window.__pwned,
			elements: document.querySelectorAll('#detail script, #detail img, #detail svg[onload], #detail iframe, #alert-list script, #alert-list img, #alert-list iframe').length,
			csp: window.__csp,
		}));
		assert(state.pwned === undefined, 'script ran: window.__pwned = ' + state.pwned);
		assert(state.elements === 0, state.elements + ' elements created from alert data');
		assert(state.csp.length === 0, 'CSP violations: ' + state.csp.join('; '));
		await shot(page, 'hostile-alert');
		const pwned2 = await page2.evaluate(() => window.__pwned);
		assert(pwned2 === undefined, 'script ran on the other analyst page');
		/* Still live after the raw-bytes entry. */
		xaddAlert(makeAlert('dddddddddddddddddddddddddddddddd-0000000000000001', 'dns.answer_race', 8, 'after-raw-check', {}));
		await page.locator('#alert-list .row .c-msg', { hasText: 'after-raw-check' }).waitFor({ state: 'attached', timeout: WAIT });
	});

	await check('sensor health lists lab1', async () => {
		await page.click('#tabs a[data-view=sensors]');
		await page.waitForFunction(() => document.getElementById('sensor-table').textContent.includes('lab1'), null, { timeout: WAIT });
		await shot(page, 'sensors');
	});

	await check('inventory: the ARP table from the baseline shows the gateway', async () => {
		await page.click('#tabs a[data-view=inventory]');
		await page.waitForFunction(() => document.getElementById('inventory').textContent.includes('192.0.2.1'), null, { timeout: WAIT });
		await page.click('#inv-kinds button[data-kind=issuers]');
		await page.waitForFunction(() => document.getElementById('inventory').textContent.includes('CN=mitmproxy,O=mitmproxy'), null, { timeout: WAIT });
		await shot(page, 'inventory');
	});

	if (BULK > 0) {
		await check('speed: ' + BULK + ' alerts stream in, the page stays responsive and catches up; the list renders only visible rows; older pages load on scroll (before=)', async () => {
			await page.click('#tabs a[data-view=alerts]');
			await page.click('#f-clear');
			await page.waitForSelector('html[data-live="live"]', { timeout: WAIT });
			/* the reload the Clear started is done */
			await page.waitForFunction(() => {
				const t = document.getElementById('list-count').textContent;
				return !t.includes('loading') && / loaded/.test(t) && document.querySelectorAll('#alert-list .row').length > 0;
			}, null, { timeout: WAIT });
			const before = Number(await page.evaluate(() => {
				window.__long = [];
				new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); })
					.observe({ entryTypes: ['longtask'] });
				const m = document.getElementById('list-count').textContent.replace(/,/g, '').match(/(\d+) matching/);
				return m ? m[1] : -1;
			}));
			const t0 = Date.now();
			bulkLoad(BULK);
			/* Live, or (when the server ended a feed that fell behind) after the page's
			 * resync: the count and the newest alert are the server's. */
			const newest = 'bulk alert ' + (BULK - 1) + ' ';
			await page.waitForFunction(([min, newest]) => {
				/* total_matching may be null (the server's counting budget): then
				 * only the newest alert is checked */
				const m = document.getElementById('list-count').textContent.replace(/,/g, '').match(/(\d+) matching/);
				const top = document.querySelector('#alert-list .row .c-msg');
				return (!m || min < 0 || Number(m[1]) === min) && top && top.textContent.startsWith(newest);
			}, [before < 0 ? -1 : before + BULK, newest], { timeout: 180000, polling: 500 });
			const live = Date.now() - t0;
			const longest = await page.evaluate(() => Math.max(0, ...window.__long));
			assert(longest < MAX_BLOCK_MS, 'the page was blocked for ' + longest.toFixed(0) + ' ms while alerts streamed in');
			const rows = await page.locator('#alert-list .row').count();
			assert(rows < 150, rows + ' rows in the DOM: not virtualised');
			/* A fresh load: the first page, then older pages by scrolling. */
			const t1 = Date.now();
			await page.reload();
			await page.waitForSelector('html[data-ready="1"]', { timeout: 60000 });
			await page.locator('#alert-list .row').first().waitFor({ state: 'attached', timeout: 60000 });
			const firstPage = Date.now() - t1;
			const t2 = Date.now();
			/* Each scroll must bring the next page: wait for the loaded count to grow
			 * (the scroll event is asynchronous, so "not loading" right after setting
			 * scrollTop can be read before the fetch even started). */
			const loadedNow = () => page.evaluate(() => {
				const m = document.getElementById('list-count').textContent.replace(/,/g, '').match(/(\d+) loaded/);
				return m ? Number(m[1]) : 0;
			});
			for (let i = 0; i < 10; i++) {
				const prev = await loadedNow();
				await page.evaluate(() => { const l = document.getElementById('alert-list'); l.scrollTop = l.scrollHeight; });
				await page.waitForFunction((prev) => {
					const t = document.getElementById('list-count').textContent;
					const m = t.replace(/,/g, '').match(/(\d+) loaded/);
					return !t.includes('loading') && m && Number(m[1]) > prev;
				}, prev, { timeout: 30000 });
			}
			const loaded = Number((await page.locator('#list-count').textContent()).replace(/,/g, '').match(/(\d+) loaded/)[1]);
			assert(loaded >= 1000, 'only ' + loaded + ' loaded after scrolling');
			const frame = await page.evaluate(() => new Promise((res) => {
				const l = document.getElementById('alert-list');
				const t = performance.now();
				l.scrollTop = l.scrollHeight / 2;
				requestAnimationFrame(() => requestAnimationFrame(() => res(performance.now() - t)));
			}));
			assert(frame < 200, 'a scroll took ' + frame.toFixed(0) + ' ms to paint');
			const rows2 = await page.locator('#alert-list .row').count();
			assert(rows2 < 150, rows2 + ' rows in the DOM after scrolling');
			console.log('# ' + BULK + ' alerts: caught up in ' + live + ' ms (longest block ' + longest.toFixed(0) +
				' ms); reload to first rows ' + firstPage + ' ms; ' + loaded + ' loaded by scrolling in ' + (Date.now() - t2) +
				' ms; scroll paint ' + frame.toFixed(0) + ' ms');
			await shot(page, 'bulk');
		});
	}

	await check('no script errors and no CSP violations on either page', async () => {
		const all = problems.concat(problems2);
		for (const p of [page, page2])
			all.push(...(await p.evaluate(() => window.__csp || ['(no CSP recorder)'])).map((v) => 'CSP: ' + v));
		assert(all.length === 0, all.join(' | '));
	});
} catch (e) {
	rc = 1;
	if (!/^(not ok)/.test(String(e)))
		console.error(e && e.stack ? e.stack : e);
} finally {
	await browser.close();
}
console.log(rc === 0 ? '# all ' + n + ' checks passed; screenshots in ' + ARTIFACTS : '# failed');
process.exit(rc);

/* An alert in the sensor's shape (see `onpath -r tests/captures/incident-mitm.pcap`). */
function makeAlert(id, action, sev, message, evidence) {
	return {
		'@timestamp': '2024-03-01T12:00:00.000000Z',
		event: { id, kind: 'alert', module: 'onpath', dataset: action.split('.')[0], action, severity: sev },
		observer: { name: 'lab1' },
		source: { ip: '192.0.2.53', mac: '02:00:00:00:00:66', port: 53 },
		destination: { ip: '192.0.2.10', mac: '02:00:00:00:00:0a', port: 5555 },
		threat: { framework: 'MITRE ATT&CK', technique: { id: ['T1557'], name: ['Adversary-in-the-Middle'] } },
		onpath: { confidence: 'high', key: id, evidence },
		message,
	};
}

/* BULK alerts into the stream through redis-cli --pipe (RESP), in a few seconds. */
function bulkLoad(count) {
	const parts = [];
	const cmd = (args) => {
		parts.push('*' + args.length + '\r\n');
		for (const a of args)
			parts.push('$' + Buffer.byteLength(a) + '\r\n' + a + '\r\n');
	};
	const types = ['arp.ip_mac_changed', 'dns.answer_race', 'issuer.changed', 'tls.server_fingerprint_changed', 'names.wpad'];
	for (let i = 0; i < count; i++) {
		const id = 'e'.repeat(32) + '-' + i.toString(16).padStart(16, '0');
		const type = types[i % types.length];
		const a = makeAlert(id, type, 1 + (i % 10), 'bulk alert ' + i + ' for host' + (i % 997) + '.example', { n: i });
		a['@timestamp'] = new Date(Date.UTC(2024, 2, 2) + i * 1000).toISOString();
		cmd(['XADD', 'onpath:alerts', '*', 'id', id, 'type', type, 'severity', String(a.event.severity), 'sensor', 'lab1', 'json', JSON.stringify(a)]);
	}
	const r = spawnSync('redis-cli', ['-p', REDIS_PORT, '--pipe'], { input: parts.join(''), maxBuffer: 1 << 26 });
	if (r.status !== 0)
		throw new Error('redis-cli --pipe: ' + r.stderr);
}
