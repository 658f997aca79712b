// bench.mjs - the BullMQ reference for scanq's queue benchmark (tests/bench/queue.c).
//
// Run by `bench-queue --vs-bullmq` against the same Redis as scanq's run:
//   node bench.mjs --redis URL --prefix P --jobs N [--concurrency 8] [--chunk 1000]
// URL is unix:///path/redis.sock[?db=N] or redis://[user:pass@]host:port/db.
// Enqueues N no-op jobs with addBulk (in chunks), then one Worker (concurrency 8,
// removeOnComplete) processes them; prints one line the C side parses:
//   bullmq enqueue_ms=<ms> process_ms=<ms> completed=<n> failed=<n> left=<n>
//          redis_cpu_ms=<Redis CPU (INFO cpu, user + sys) used while processing>
// Connection set-up is outside both timings, as on the scanq side.
import { Queue, Worker } from 'bullmq';

function parseArgs(argv) {
	const a = { redis: 'redis://127.0.0.1:6379/0', prefix: 'bull', jobs: 20000,
		    concurrency: 8, chunk: 1000 };
	for (let i = 0; i < argv.length; i += 2) {
		const key = argv[i].replace(/^--/, '');
		if (!(key in a) || i + 1 >= argv.length)
			throw new Error(`bad argument '${argv[i]}'`);
		a[key] = typeof a[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
	}
	return a;
}

// ioredis options for a scanq-style URL (BullMQ wants options, not a URL).
function connection(url) {
	const u = new URL(url);
	// BullMQ requires this for the worker's blocking connection.
	const o = { maxRetriesPerRequest: null };
	if (u.protocol === 'unix:') {
		o.path = decodeURIComponent(u.pathname);
		o.db = Number(u.searchParams.get('db') || 0);
	} else {
		o.host = u.hostname.replace(/^\[|\]$/g, '');
		o.port = Number(u.port || 6379);
		o.db = Number(u.pathname.slice(1) || 0);
		if (u.username) o.username = decodeURIComponent(u.username);
		if (u.password) o.password = decodeURIComponent(u.password);
	}
	return o;
}

async function enqueue(queue, n, chunk) {
	const t0 = performance.now();
	for (let i = 0; i < n; i += chunk) {
		const batch = [];
		for (let j = i; j < Math.min(n, i + chunk); j++)
			batch.push({ name: 'noop', data: { i: j },
				     opts: { removeOnComplete: true } });
		await queue.addBulk(batch);
	}
	return performance.now() - t0;
}

async function processAll(name, conn, a) {
	let completed = 0, failed = 0, t0 = 0, finish;
	const done = new Promise((resolve) => { finish = resolve; });
	const worker = new Worker(name, async () => {}, {
		connection: conn, prefix: a.prefix, concurrency: a.concurrency, autorun: false });
	const check = () => { if (completed + failed >= a.jobs) finish(performance.now() - t0); };
	worker.on('completed', () => { completed++; check(); });
	worker.on('failed', () => { failed++; check(); });
	worker.on('error', (e) => { console.error(`bench.mjs: worker error: ${e.message}`); });
	await worker.waitUntilReady();
	t0 = performance.now();
	worker.run();
	const ms = await done;
	await worker.close();
	return { ms, completed, failed };
}

// Redis's CPU time so far (INFO cpu), in ms.
async function redisCpuMs(client) {
	const info = await client.info('cpu');
	const get = (k) => Number((info.match(new RegExp(`^${k}:([0-9.]+)`, 'm')) || [0, 0])[1]);
	return (get('used_cpu_user') + get('used_cpu_sys')) * 1000;
}

async function main() {
	const a = parseArgs(process.argv.slice(2));
	const conn = connection(a.redis);
	const name = 'bench';
	const queue = new Queue(name, { connection: conn, prefix: a.prefix });
	await queue.waitUntilReady();
	const enqueueMs = await enqueue(queue, a.jobs, a.chunk);
	const waiting = await queue.getWaitingCount();
	if (waiting !== a.jobs)
		throw new Error(`${waiting} jobs waiting after enqueue, expected ${a.jobs}`);
	const client = await queue.client;
	const cpu0 = await redisCpuMs(client);
	const r = await processAll(name, conn, a);
	const cpuMs = await redisCpuMs(client) - cpu0;
	const left = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed');
	await queue.obliterate({ force: true });
	await queue.close();
	console.log(`bullmq enqueue_ms=${enqueueMs.toFixed(3)} process_ms=${r.ms.toFixed(3)} ` +
		    `completed=${r.completed} failed=${r.failed} ` +
		    `left=${left.waiting + left.active + left.delayed + left.completed} ` +
		    `redis_cpu_ms=${cpuMs.toFixed(1)}`);
}

main().catch((e) => {
	console.error(`bench.mjs: ${e.message}`);
	process.exit(1);
});
