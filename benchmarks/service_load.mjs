// One load-generating client process for benchmarks/service.py.
//
// It takes a job as JSON (its only argument), keeps `inFlight` calls
// outstanding against the service over `connections` separate HTTP/2
// connections, and prints one JSON line: every latency measured after the
// warm-up, and the errors seen.
//
// Job: { address, mode: "unary" | "stream", echo: boolean,
//        payloads: [base64 request bytes], ids: [the id inside each stream
//        payload], inFlight, connections, startAt (epoch ms), warmUp (s),
//        duration (s) }
//
// Unary mode calls Convert once per slot at a time. Stream mode opens one
// ConvertBatch stream per slot and sends the next item when the previous
// answer arrives. Answers are checked with the generated code in gen/ts (see
// check below): an error item, an id that does not match or an answer that
// differs from the checked one counts as an error, so a fast wrong answer
// cannot pass for throughput. With `echo`, the server returns each message
// unchanged, and that is what is checked.
//
// The client is Node (grpc-js) rather than Python so that the load generator
// costs the shared machine as little CPU as it can.

import { fromBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";

import { ConvertBatchResponseSchema, ConvertResponseSchema } from "../gen/ts/flyteres/v2/service_pb.js";

const SERVICE = "/flyteres.v2.ResourceService/";
const job = JSON.parse(process.argv[2]);
const payloads = job.payloads.map((text) => Buffer.from(text, "base64"));
const same = (value) => value;
const clients = Array.from(
  { length: job.connections },
  // A local subchannel pool gives each client its own connection, so a
  // server with several worker processes sees several connections.
  () => new grpc.Client(job.address, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 }),
);

const latencies = [];
let errors = 0;
let firstError = null;
const fail = (message) => {
  errors += 1;
  firstError ??= message;
};

// The first answer to each payload is decoded and checked in full, and so is
// every FULL_CHECK_EVERY-th answer after it; the others must equal the checked
// one byte for byte (the service is deterministic), apart from the start of a
// stream item, which holds its id and its position in the stream (fields 1
// and 2, before the answer: at most 2 + id bytes + 6). Decoding every answer
// would cost the client about half as much CPU again.
const FULL_CHECK_EVERY = 64;
const checked = new Map();
let answers = 0;

function check(mode, bytes, index) {
  if (job.echo) {
    if (!bytes.equals(payloads[index])) fail(`the echo of payload ${index} differs`);
    return;
  }
  const known = checked.get(index);
  answers += 1;
  if (known && answers % FULL_CHECK_EVERY !== 0) {
    const skip = mode === "unary" ? 0 : 2 + Buffer.byteLength(job.ids[index]) + 6;
    const tail = known.length - skip;
    if (bytes.length < tail || !bytes.subarray(bytes.length - tail).equals(known.subarray(skip))) {
      fail(`the answer to payload ${index} changed`);
    }
    return;
  }
  if (mode === "unary") {
    if (!fromBinary(ConvertResponseSchema, bytes).spec) return fail("a Convert answer without a spec");
  } else {
    const item = fromBinary(ConvertBatchResponseSchema, bytes);
    if (item.result.case !== "response") return fail(`item ${item.id}: ${item.result.case}`);
    if (item.id !== job.ids[index]) return fail(`expected id ${job.ids[index]}, got ${item.id}`);
  }
  if (!known) checked.set(index, bytes);
}

function streamSlot(client, slot, times) {
  return new Promise((resolve) => {
    const call = client.makeBidiStreamRequest(SERVICE + "ConvertBatch", same, same);
    let sent = 0;
    let index = slot % payloads.length;
    const send = () => {
      sent = performance.now();
      call.write(payloads[index]);
    };
    call.on("data", (bytes) => {
      const now = performance.now();
      check("stream", bytes, index);
      if (now >= times.measureFrom) latencies.push(now - sent);
      index = (index + 1) % payloads.length;
      if (now < times.end) send();
      else call.end();
    });
    call.on("error", (error) => {
      fail(`stream ${slot}: ${error.message}`);
      resolve();
    });
    call.on("end", resolve);
    send();
  });
}

function unarySlot(client, slot, times) {
  return new Promise((resolve) => {
    let index = slot % payloads.length;
    const one = () => {
      const sent = performance.now();
      client.makeUnaryRequest(SERVICE + "Convert", same, same, payloads[index], (error, bytes) => {
        const now = performance.now();
        if (error) fail(`call: ${error.message}`);
        else {
          check("unary", bytes, index);
          if (now >= times.measureFrom) latencies.push(now - sent);
        }
        index = (index + 1) % payloads.length;
        if (now < times.end && !error) one();
        else resolve();
      });
    };
    one();
  });
}

async function main() {
  const deadline = Date.now() + 10_000;
  await Promise.all(
    clients.map((client) => new Promise((ok, no) => client.waitForReady(deadline, (e) => (e ? no(e) : ok())))),
  );
  await new Promise((ok) => setTimeout(ok, Math.max(0, job.startAt - Date.now())));
  const start = performance.now();
  const times = { measureFrom: start + job.warmUp * 1000, end: start + (job.warmUp + job.duration) * 1000 };
  // Bounded: whatever happens to the server, the process reports and exits.
  const watchdog = setTimeout(() => {
    fail("calls still outstanding 10 s after the end");
    report(1);
  }, (job.warmUp + job.duration + 10) * 1000);
  const slot = job.mode === "unary" ? unarySlot : streamSlot;
  await Promise.all(Array.from({ length: job.inFlight }, (_, i) => slot(clients[i % clients.length], i, times)));
  clearTimeout(watchdog);
  report(0);
}

function report(code) {
  const rounded = latencies.map((ms) => Math.round(ms * 1000) / 1000);
  process.stdout.write(JSON.stringify({ latencies_ms: rounded, errors, first_error: firstError }) + "\n", () => {
    for (const client of clients) client.close();
    process.exit(code);
  });
}

main().catch((error) => {
  fail(String(error));
  report(1);
});
