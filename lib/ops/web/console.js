/* console.js - the scanq web console: the queue live, a page per acquisition and
 * per job (task or stitch) with its outputs, and the cloud in 3D.
 *
 * Routes (the URL's hash): #/ every acquisition and the workers; #/acq/NAME its
 * jobs; #/job/ACQ/JID one job. Data comes from the console's own API (api/...),
 * one Redis call each; the page polls at the interval the server gives. The DOM
 * is built with textContent only: nothing from Redis or the disk is ever parsed
 * as HTML. The page reports its own state on <html>: data-state (loading, ready,
 * error), data-view, data-viewer (none, loading, ready, error), data-points,
 * data-errors (boot.js). */
'use strict';
(function () {
	const S = {config: null, timer: 0, view: null, viewer: null, busy: false};
	const STAGES = ['extract', 'reconstruct', 'stitch'];
	const root = document.documentElement;

	/* ---- helpers ---- */

	function el(tag, attrs, ...kids) {
		const e = document.createElement(tag);

		for (const [k, v] of Object.entries(attrs || {})) {
			if (v === undefined || v === null || v === false)
				continue;
			if (k === 'class')
				e.className = v;
			else if (k === 'text')
				e.textContent = v;
			else if (k.startsWith('on'))
				e.addEventListener(k.slice(2), v);
			else
				e.setAttribute(k, v === true ? '' : String(v));
		}
		for (const kid of kids.flat(Infinity)) {
			if (kid === undefined || kid === null || kid === false)
				continue;
			e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
		}
		return e;
	}

	/* Replaces parent's children with kids, nulls left out (replaceChildren would
	 * write them as text). */
	function fill(parent, ...kids) {
		parent.replaceChildren(...kids.flat(Infinity).filter(k => k !== null && k !== undefined && k !== false));
	}

	function age(nowMs, ms) {
		if (!ms)
			return '-';
		let s = Math.max(0, Math.floor((nowMs - ms) / 1000));
		if (s < 60)
			return s + 's';
		if (s < 3600)
			return Math.floor(s / 60) + 'm' + String(s % 60).padStart(2, '0') + 's';
		if (s < 86400)
			return Math.floor(s / 3600) + 'h' + String(Math.floor(s % 3600 / 60)).padStart(2, '0') + 'm';
		return Math.floor(s / 86400) + 'd' + String(Math.floor(s % 86400 / 3600)).padStart(2, '0') + 'h';
	}

	function when(ms) {
		const n = Number(ms);

		return n > 0 ? new Date(n).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
	}

	function q(params) {
		return Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')
			.map(([k, v]) => encodeURIComponent(k) + '=' + encodeURIComponent(v)).join('&');
	}

	function fileUrl(acq, jid, path) {
		return 'api/file?' + q({acq: acq, jid: jid, path: path});
	}

	async function api(path, opts) {
		const r = await fetch(path, opts);
		let body = {};

		try {
			body = await r.json();
		} catch (e) {
			body = {};
		}
		if (!r.ok)
			throw new Error(body.error || (r.status + ' ' + r.statusText));
		return body;
	}

	function banner(text, ok) {
		const b = document.getElementById('banner');

		b.hidden = !text;
		b.className = ok ? 'ok' : '';
		b.textContent = text || '';
	}

	function badge(text, cls) {
		return el('span', {class: 'badge ' + (cls || text).replace(/ /g, '-'), text: text});
	}

	function jobLink(acq, jid) {
		return el('a', {href: '#/job/' + encodeURIComponent(acq) + '/' + encodeURIComponent(jid),
			text: jid});
	}

	/* ---- actions (only when the server has an operator token) ---- */

	async function act(verb, acq, target, extra) {
		const token = document.getElementById('token').value;

		if (!token) {
			banner('enter the operator token first (top right)');
			return;
		}
		if ((verb === 'cancel') &&
			!window.confirm('cancel ' + acq + (target ? '/' + target : '') + '?'))
			return;
		try {
			sessionStorage.setItem('scanq-token', token);
			const doc = await api('api/action?' + q(Object.assign({verb: verb, acq: acq,
				target: target}, extra || {})), {method: 'POST', headers: {'X-Scanq-Token': token}});
			banner(verb + ' ' + acq + (target ? '/' + target : '') + ': ' + summary(verb, doc), true);
			refresh();
		} catch (e) {
			banner(verb + ' failed: ' + e.message);
		}
	}

	function summary(verb, doc) {
		if (verb === 'cancel')
			return (doc.cancelled || []).length + ' cancelled' +
				((doc.queued || []).length ? ', re-planned ' + doc.queued.join(' ') : '');
		if (verb === 'retry')
			return (doc.retried || []).length + ' sent back to their queue';
		if (verb === 'clear')
			return doc.cleared + ' dead letter(s) dropped';
		return doc.changed ? 'done' : 'nothing to change';
	}

	function button(text, fn, danger) {
		return S.config && S.config.actions ?
			el('button', {class: danger ? 'danger' : '', text: text, onclick: fn}) : null;
	}

	/* ---- progress bars ---- */

	function expected(a, s) {
		const c = a.stages || {};
		const cx = (c.extract || {}).cancelled || 0;

		if (s === 'stitch')
			return a.groups + (a.groups >= 2 ? 1 : 0) - ((c.stitch || {}).cancelled || 0);
		return a.tasks - cx - (s === 'reconstruct' ? ((c.reconstruct || {}).cancelled || 0) : 0);
	}

	function stageBar(c, total, mini) {
		const bar = el('div', {class: (mini ? 'mini ' : '') + 'bar'});
		const parts = [['done', (c.done || 0) - (c.warnings || 0)], ['warn', c.warnings || 0],
			['running', c.running || 0], ['retrying', c.retrying || 0],
			['failed', c.failed || 0], ['queued', c.queued || 0], ['cancelled', c.cancelled || 0]];
		const sum = Math.max(total + (c.cancelled || 0), parts.reduce((n, p) => n + p[1], 0), 1);

		for (const [name, n] of parts) {
			if (n <= 0)
				continue;
			const seg = el('span', {class: 'seg-' + name, title: n + ' ' + name});

			seg.style.width = (100 * n / sum) + '%';
			bar.append(seg);
		}
		return bar;
	}

	function progress(done, total) {
		const bar = el('div', {class: 'mini bar'});
		const seg = el('span', {class: 'seg-running'});

		seg.style.width = (total > 0 ? Math.min(100, 100 * done / total) : 0) + '%';
		bar.append(seg);
		return el('span', {}, bar, total > 0 ? ' ' + done + '/' + total : '');
	}

	/* ---- the overview ---- */

	function acqCard(a, now) {
		const head = el('h2', {}, el('a', {href: '#/acq/' + encodeURIComponent(a.name), text: a.name}),
			el('span', {class: 'muted', text: a.tasks + ' tasks in ' + a.groups + ' groups'}),
			a.paused ? badge('paused') : null,
			a.dead_total ? badge(a.dead_total + ' dead', 'dead') : null,
			a.warned_total ? badge(a.warned_total + ' with warnings', 'warn') : null);
		const rows = STAGES.map(s => {
			const c = (a.stages || {})[s] || {};
			const total = expected(a, s);

			return el('tr', {'data-stage': s}, el('td', {text: s}), el('td', {}, stageBar(c, total)),
				el('td', {class: 'num', text: (c.done || 0) + '/' + total}),
				el('td', {class: 'muted', text: [c.queued ? c.queued + ' queued' : '',
					c.running ? c.running + ' running' : '', c.retrying ? c.retrying + ' retrying' : '',
					c.failed ? c.failed + ' failed' : '', c.cancelled ? c.cancelled + ' cancelled' : '',
					c.warnings ? c.warnings + ' with warnings' : ''].filter(Boolean).join(', ')}));
		});
		const card = el('section', {class: 'card acq', 'data-acq': a.name}, head,
			el('table', {class: 'stages'}, el('tbody', {}, rows)));

		if ((a.running || []).length)
			card.append(el('h3', {text: 'running'}), el('table', {},
				el('tr', {}, ['job', 'stage', 'host', 'age', 'progress', 'try'].map(h => el('th', {text: h}))),
				a.running.map(r => el('tr', {}, el('td', {}, jobLink(a.name, r.jid)), el('td', {text: r.stage}),
					el('td', {text: r.host || r.owner}), el('td', {text: age(now, r.claimed_ms)}),
					el('td', {}, progress(r.progress_done, r.progress_total)),
					el('td', {class: 'num', text: r.attempt})))));
		if ((a.dead || []).length)
			card.append(el('h3', {text: 'dead letters (' + a.dead_total + ', newest first)'}),
				el('table', {}, a.dead.map(d => el('tr', {}, el('td', {}, jobLink(a.name, d.jid)),
					el('td', {text: d.stage}), el('td', {text: d.host}),
					el('td', {text: d.attempts + ' tries'}), el('td', {text: age(now, d.time_ms) + ' ago'}),
					el('td', {class: 'err', text: d.error}),
					el('td', {}, button('retry', () => act('retry', a.name, d.jid)))))));
		if ((a.warned || []).length)
			card.append(el('h3', {text: 'done with warnings (' + a.warned_total + ', newest first)'}),
				el('table', {}, a.warned.map(w => el('tr', {}, el('td', {}, jobLink(a.name, w.jid)),
					el('td', {text: w.stage}), el('td', {text: age(now, w.time_ms) + ' ago'}),
					el('td', {}, el('ul', {class: 'warnings'}, (w.warnings || []).map(t => el('li', {text: t}))))))));
		card.append(el('div', {class: 'actions'},
			a.paused ? button('resume', () => act('resume', a.name)) : button('pause', () => act('pause', a.name)),
			a.dead_total ? button('retry dead letters', () => act('retry', a.name)) : null,
			a.dead_total ? button('clear dead letters', () => act('clear', a.name)) : null,
			button('cancel acquisition', () => act('cancel', a.name), true)));
		return card;
	}

	function workersCard(snap) {
		const now = snap.now_ms;
		const beat = 5000;
		const ws = snap.workers || [];

		return el('section', {class: 'card workers'}, el('h2', {text: 'workers (' + ws.length + ')'}),
			ws.length ? el('table', {},
				el('tr', {}, ['worker', 'host', 'pid', 'stages', 'GPU', 'heartbeat', 'job'].map(h => el('th', {text: h}))),
				ws.map(w => el('tr', {}, el('td', {text: w.id}), el('td', {text: w.host}),
					el('td', {class: 'num', text: w.pid}), el('td', {text: w.stages}),
					el('td', {text: w.gpu === null || w.gpu === undefined ? 'cpu' : 'gpu ' + w.gpu}),
					el('td', {class: now - w.last_beat_ms > 3 * beat ? 'stale' : '',
						text: age(now, w.last_beat_ms) + ' ago' + (now - w.last_beat_ms > 3 * beat ? ' STALE' : '')}),
					el('td', {text: w.job || 'idle'})))) :
				el('p', {class: 'muted', text: 'none registered'}));
	}

	async function showOverview(main) {
		const snap = await api('api/snapshot');
		const acqs = snap.acquisitions || [];

		fill(main, ...acqs.map(a => acqCard(a, snap.now_ms)),
			acqs.length ? null : el('p', {class: 'muted', text: 'no acquisitions (scanq-enqueue DIR adds one)'}),
			workersCard(snap));
		root.dataset.acqs = String(acqs.length);
	}

	/* ---- an acquisition's jobs ---- */

	async function showAcq(main, acq) {
		const doc = await api('api/show?' + q({acq: acq}));
		const now = doc.now_ms;

		fill(main, el('section', {class: 'card acq', 'data-acq': acq},
			el('h2', {}, acq, doc.paused ? badge('paused') : null,
				el('span', {class: 'muted', text: 'output ' + (doc.output_root || '?')})),
			el('table', {class: 'jobs'},
				el('tr', {}, ['job', 'group', 'stage', 'status', 'tries', 'host', 'updated', 'error', ''].map(h => el('th', {text: h}))),
				(doc.jobs || []).map(j => el('tr', {'data-jid': j.jid}, el('td', {}, jobLink(acq, j.jid)),
					el('td', {text: j.group}), el('td', {text: j.stage}), el('td', {}, badge(j.status)),
					el('td', {class: 'num', text: j.attempts}), el('td', {text: j.host}),
					el('td', {text: age(now, Number(j.updated_ms)) + ' ago'}),
					el('td', {class: 'err', text: j.state === 'cancelled' ? '' : j.error}),
					el('td', {}, ['failed', 'cancelled'].includes(j.state) ?
						button('retry', () => act('retry', acq, j.jid, j.state === 'cancelled' ? {cancelled: 1} : {})) :
						j.state !== 'done' ? button('cancel', () => act('cancel', acq, j.jid), true) : null)))),
			el('div', {class: 'actions'},
				doc.paused ? button('resume', () => act('resume', acq)) : button('pause', () => act('pause', acq)))));
	}

	/* ---- one job ---- */

	function kv(pairs) {
		return el('dl', {class: 'kv'}, pairs.filter(p => p[1] !== undefined && p[1] !== '' && p[1] !== null)
			.map(([k, v]) => [el('dt', {text: k}), el('dd', {}, v)]));
	}

	function scalars(obj) {
		return Object.entries(obj || {}).filter(([, v]) => v === null || typeof v !== 'object' ||
			(Array.isArray(v) && v.every(x => typeof x === 'string')))
			.map(([k, v]) => [k, Array.isArray(v) ? v.join(' ') :
				(/_ms$/.test(k) && v > 1e12 ? when(v) : String(v))]);
	}

	function recordSection(stage, rec) {
		if (!rec)
			return el('div', {}, el('h3', {text: stage + ' record'}), el('p', {class: 'muted', text: 'none'}));
		const nested = Object.entries(rec).filter(([, v]) => v && typeof v === 'object' && !Array.isArray(v));

		return el('div', {class: 'record', 'data-record': stage}, el('h3', {text: stage + ' record'}),
			kv(scalars(rec)), nested.map(([k, v]) => [el('h3', {text: stage + ' ' + k}), kv(scalars(v))]));
	}

	function jobHead(doc, acq, jid) {
		const j = doc.job;

		return [el('h2', {}, acq + '/' + jid, badge(doc.status), doc.paused ? badge('paused') : null,
			el('span', {class: 'muted', text: (j.kind === 'task' ? 'task of group ' + j.group :
				'stitch' + (j.group ? ' of group ' + j.group : ' of the acquisition')) + ', at ' + j.stage})),
		kv([['output', j.outdir], ['version', j.version],
			['attempts', j.attempts + ' of ' + j.max_attempts + ' (' + (j.errors || 0) + ' errors, ' + (j.crashes || 0) + ' crashes)'],
			['host', j.host], ['claimed', when(j.claimed_ms)], ['updated', when(j.updated_ms)],
			['progress', Number(j.progress_total) > 0 ? progress(Number(j.progress_done), Number(j.progress_total)) : ''],
			['error', j.state !== 'done' && j.error ? el('span', {class: 'err', text: j.error}) : '']]),
		el('div', {class: 'actions'},
			['failed', 'cancelled'].includes(j.state) ?
				button('retry', () => act('retry', acq, jid, j.state === 'cancelled' ? {cancelled: 1} : {})) : null,
			!['done', 'cancelled'].includes(j.state) ? button('cancel', () => act('cancel', acq, jid), true) : null)];
	}

	function historySection(doc) {
		return [el('h3', {text: 'history (oldest first)'}), el('table', {class: 'history'},
			el('tr', {}, ['stage', 'try', 'host', 'worker', 'started', 'took', 'outcome'].map(h => el('th', {text: h}))),
			(doc.history || []).map(h => el('tr', {}, el('td', {text: h.stage}), el('td', {class: 'num', text: h.attempt}),
				el('td', {text: h.host}), el('td', {class: 'muted', text: h.worker}), el('td', {text: when(h.start_ms)}),
				el('td', {class: 'num', text: h.start_ms ? ((h.end_ms - h.start_ms) / 1000).toFixed(1) + 's' : '-'}),
				el('td', {}, h.outcome, h.error ? el('div', {class: 'err', text: h.error}) : null))))];
	}

	function diskSection(doc, acq, jid) {
		const d = doc.disk || {};
		const out = [];

		if ((d.warnings || []).length)
			out.push(el('h3', {text: 'warnings'}), el('ul', {class: 'warnings'}, d.warnings.map(w => el('li', {text: w}))));
		if (!d.local)
			return out.concat(el('p', {class: 'muted', text: 'outputs at ' + d.outdir + ' are not on this host'}));
		if ((d.thumbnails || []).length)
			out.push(el('h3', {text: 'frames'}), el('div', {class: 'thumbs'},
				d.thumbnails.map(p => el('a', {href: fileUrl(acq, jid, p), target: '_blank'},
					el('img', {src: fileUrl(acq, jid, p), loading: 'lazy', alt: p})))));
		const views = el('div', {class: 'views'});
		if (d.preview_png)
			views.append(el('div', {}, el('h3', {text: 'top-down' + ((d.cameras || []).length ? ', camera path in red' : '')}),
				el('img', {class: 'preview', src: fileUrl(acq, jid, d.preview_png), alt: 'preview'})));
		if (d.preview_ply) {
			const box = el('div', {class: 'viewer', id: 'viewer'}, el('span', {class: 'hint',
				text: 'drag: orbit, wheel: zoom, right drag: pan'}));

			views.append(el('div', {}, el('h3', {text: 'cloud (' + d.preview_ply + ')'}), box));
			out.push(views);
			S.pendingViewer = {box: box, url: fileUrl(acq, jid, d.preview_ply), cameras: d.cameras || []};
		} else {
			if (d.preview_png)
				out.push(views);
			root.dataset.viewer = 'none';
		}
		for (const [stage, rec] of Object.entries(d.records || {}))
			out.push(recordSection(stage, rec));
		for (const [stage, text] of Object.entries(d.logs || {}))
			out.push(el('h3', {text: stage + '.log (last lines)'}), el('pre', {class: 'log', text: text}));
		return out;
	}

	/* The part of a job's page that changes while it runs. */
	function jobTop(doc, acq, jid) {
		return [jobHead(doc, acq, jid), historySection(doc),
			(doc.dead || []).map(dl => [el('h3', {text: 'dead letter'}), el('div', {class: 'err', text: dl.error})])];
	}

	async function showJob(main, acq, jid, poll) {
		const doc = await api('api/show?' + q({acq: acq, target: jid}));
		const top = document.getElementById('jobtop');

		if (poll && top) { /* the viewer stays; the state, history and errors move on */
			fill(top, jobTop(doc, acq, jid));
			return;
		}
		const card = el('section', {class: 'card job', 'data-acq': acq, 'data-jid': jid},
			el('div', {id: 'jobtop'}, jobTop(doc, acq, jid)));

		S.pendingViewer = null;
		card.append(...diskSection(doc, acq, jid));
		fill(main, card);
		if (S.pendingViewer)
			startViewer(S.pendingViewer);
	}

	/* ---- the 3D viewer ---- */

	function stopViewer() {
		if (S.viewer) {
			S.viewer.dispose();
			S.viewer = null;
		}
	}

	function startViewer(v) {
		const T = window.THREE;

		stopViewer();
		if (!T || !T.PLYLoader || !T.OrbitControls) {
			v.box.append(el('p', {class: 'muted', text: 'no 3D viewer: three.js (Debian libjs-three) is not installed'}));
			root.dataset.viewer = 'error';
			return;
		}
		root.dataset.viewer = 'loading';
		const renderer = new T.WebGLRenderer({antialias: true, preserveDrawingBuffer: true});
		const scene = new T.Scene();
		const camera = new T.PerspectiveCamera(50, 1, 0.001, 1000);
		const controls = new T.OrbitControls(camera, renderer.domElement);
		let alive = true;

		renderer.setPixelRatio(window.devicePixelRatio || 1);
		scene.background = new T.Color(0x0b0c0e);
		v.box.prepend(renderer.domElement);
		function render() {
			if (!alive)
				return;
			const w = v.box.clientWidth || 640, h = v.box.clientHeight || 480;

			renderer.setSize(w, h, false);
			camera.aspect = w / h;
			camera.updateProjectionMatrix();
			renderer.render(scene, camera);
		}
		controls.addEventListener('change', render);
		window.addEventListener('resize', render);
		S.viewer = {dispose: () => {
			alive = false;
			window.removeEventListener('resize', render);
			controls.dispose();
			renderer.dispose();
		}};
		new T.PLYLoader().load(v.url, geometry => {
			if (!alive)
				return;
			const n = geometry.attributes.position.count;

			geometry.computeBoundingSphere();
			const c = geometry.boundingSphere.center, r = geometry.boundingSphere.radius || 1;
			const colours = !!geometry.attributes.color;
			const material = new T.PointsMaterial({size: r / 250, sizeAttenuation: true,
				vertexColors: colours ? (T.VertexColors !== undefined ? T.VertexColors : true) :
					(T.NoColors !== undefined ? T.NoColors : false),
				color: colours ? 0xffffff : 0x88bbee});
			scene.add(new T.Points(geometry, material));
			addPath(T, scene, v.cameras);
			/* look from the cameras' side of the cloud, as they saw it */
			const eye = new T.Vector3(0, 0, 1);
			if (v.cameras.length) {
				const m = new T.Vector3();
				v.cameras.forEach(p => m.add(new T.Vector3(p[0], p[1], p[2])));
				m.divideScalar(v.cameras.length).sub(c);
				if (m.length() > 1e-9)
					eye.copy(m.normalize());
			}
			camera.near = r / 1000;
			camera.far = r * 100;
			camera.position.copy(c.clone().add(eye.multiplyScalar(r * 2.2)));
			controls.target.copy(c);
			controls.update();
			render();
			renderer.domElement.setAttribute('data-points', String(n));
			root.dataset.points = String(n);
			root.dataset.viewer = 'ready';
		}, undefined, err => {
			root.dataset.viewer = 'error';
			window.scanqNote('cannot load the cloud: ' + (err && err.message ? err.message : err));
		});
	}

	function addPath(T, scene, cams) {
		if (!cams.length)
			return;
		const g = new T.BufferGeometry();
		const pos = new Float32Array(cams.length * 3);

		cams.forEach((p, i) => pos.set(p, 3 * i));
		if (g.setAttribute)
			g.setAttribute('position', new T.BufferAttribute(pos, 3));
		else
			g.addAttribute('position', new T.BufferAttribute(pos, 3));
		scene.add(new T.Line(g, new T.LineBasicMaterial({color: 0xff4040})));
	}

	/* ---- routing and refresh ---- */

	function parseRoute() {
		const parts = (location.hash || '#/').replace(/^#\/?/, '').split('/').map(decodeURIComponent);

		if (parts[0] === 'acq' && parts[1])
			return {view: 'acq', acq: parts[1]};
		if (parts[0] === 'job' && parts[1] && parts[2])
			return {view: 'job', acq: parts[1], jid: parts.slice(2).join('/')};
		return {view: 'overview'};
	}

	function crumbs(r) {
		const nav = document.getElementById('crumbs');

		fill(nav, el('a', {href: '#/', text: 'all'}),
			r.acq ? el('a', {href: '#/acq/' + encodeURIComponent(r.acq), text: '/ ' + r.acq}) : null,
			r.jid ? el('span', {text: '/ ' + r.jid}) : null);
	}

	async function refresh(navigated) {
		const r = parseRoute();
		const main = document.getElementById('main');

		if (S.busy)
			return;
		S.busy = true;
		try {
			/* an acquisition's job list (thousands of rows, one Redis call that
			 * reads every job) is re-read every fifth poll only */
			S.ticks = navigated ? 0 : (S.ticks || 0) + 1;
			if (r.view === 'acq' && !navigated && S.ticks % 5 !== 0)
				return;
			if (navigated) {
				stopViewer();
				crumbs(r);
				root.dataset.viewer = 'none';
			}
			if (r.view === 'overview')
				await showOverview(main);
			else if (r.view === 'acq')
				await showAcq(main, r.acq);
			else
				await showJob(main, r.acq, r.jid, !navigated && S.view === 'job');
			S.view = r.view;
			root.dataset.view = r.view;
			root.dataset.state = 'ready';
			document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
			if (document.getElementById('banner').textContent.startsWith('cannot reach'))
				banner('');
		} catch (e) {
			root.dataset.state = 'error';
			banner('cannot reach the console: ' + e.message + ' (retrying)');
		} finally {
			S.busy = false;
		}
	}

	async function start() {
		try {
			S.config = await api('api/config');
		} catch (e) {
			S.config = {actions: false, refresh_ms: 2000};
		}
		if (S.config.actions) {
			document.getElementById('tokenbox').hidden = false;
			document.getElementById('token').value = sessionStorage.getItem('scanq-token') || '';
		}
		window.addEventListener('hashchange', () => refresh(true));
		await refresh(true);
		S.timer = window.setInterval(() => refresh(false), Math.max(500, S.config.refresh_ms || 2000));
	}

	start();
})();
