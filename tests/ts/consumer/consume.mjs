// A consumer of the published npm package, run by tests/test_npm_package.py from a
// fresh directory where only the packed tarball and @grpc/grpc-js are installed:
// everything is imported by package name, as a user's code would.
//
//   FLYTERES_VECTORS=<tests/vectors> FLYTERES_ADDRESS=127.0.0.1:PORT node --test consume.mjs
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import grpc from "@grpc/grpc-js";
import { create, createRegistry, equals, fromBinary, fromJson, toBinary, toJson } from "@bufbuild/protobuf";

import * as idl from "flyteres-idl";
import { ExtendedResourcesSchema, ResourcesSchema } from "flyteres-idl/v1/resources";
import { DeviceClass, ResourceSpecSchema } from "flyteres-idl/v2/spec";
import {
  ConvertBatchRequestSchema,
  ConvertBatchResponseSchema,
  ConvertRequestSchema,
  ConvertResponseSchema,
  ListAcceleratorsRequestSchema,
  ListAcceleratorsResponseSchema,
  OutputForm,
  Rule,
} from "flyteres-idl/v2/service";
import { StatusSchema } from "flyteres-idl/google/rpc/status";
import { BadRequestSchema } from "flyteres-idl/google/rpc/error_details";

const vectors = process.env.FLYTERES_VECTORS;
const address = process.env.FLYTERES_ADDRESS;
const index = JSON.parse(readFileSync(join(vectors, "index.json"), "utf8"));
const schemas = { "flyteres.v1.Resources": ResourcesSchema, "flyteres.v1.ExtendedResources": ExtendedResourcesSchema };
const SERVICE = "/flyteres.v2.ResourceService/";

test("the root entry point re-exports every flyteres file", () => {
  assert.equal(idl.ResourcesSchema, ResourcesSchema);
  assert.equal(idl.ResourceSpecSchema, ResourceSpecSchema);
  assert.equal(idl.ConvertRequestSchema, ConvertRequestSchema);
});

test("every golden vector decodes, and its JSON is the binary's", () => {
  let count = 0;
  for (const vector of index.vectors) {
    for (const files of Object.values(vector.messages)) {
      const schema = schemas[files.type];
      assert.ok(schema, `no schema for ${files.type}`);
      const binary = new Uint8Array(readFileSync(join(vectors, files.binary)));
      const fromBytes = fromBinary(schema, binary);
      const fromText = fromJson(schema, JSON.parse(readFileSync(join(vectors, files.json), "utf8")));
      assert.ok(equals(schema, fromBytes, fromText), `${vector.name}: ${files.type}`);
      assert.deepEqual(toBinary(schema, fromText), binary, `${vector.name}: bytes`);
      count += 1;
    }
  }
  assert.ok(count >= 20, `only ${count} messages`);
});

function client() {
  return new grpc.Client(address, grpc.credentials.createInsecure());
}

function unary(c, method, requestSchema, responseSchema, request) {
  return new Promise((resolve, reject) => {
    c.makeUnaryRequest(
      SERVICE + method,
      (message) => Buffer.from(toBinary(requestSchema, message)),
      (bytes) => fromBinary(responseSchema, bytes),
      request,
      (error, response) => (error ? reject(error) : resolve(response)),
    );
  });
}

test("Convert answers a flytekit spec with every requested form", async () => {
  const c = client();
  try {
    const request = create(ConvertRequestSchema, {
      input: { spec: { case: "flytekit", value: { limits: { cpu: "2" } } } },
      options: { outputs: [OutputForm.FLYTE_SOURCE, OutputForm.FLYTEIDL2] },
    });
    const answer = await unary(c, "Convert", ConvertRequestSchema, ConvertResponseSchema, request);
    assert.equal(answer.lossy, true);
    assert.equal(answer.flyte.source, "");
    const finding = answer.flyte.findings.find((f) => f.lossy);
    assert.equal(finding.rule, Rule.LIMIT_WITHOUT_REQUEST);
    assert.equal(finding.field, "limits.cpu");
    assert.deepEqual(
      answer.flyteidl2.resources,
      fromBinary(ResourcesSchema, answer.flyteidl2.resourcesBinary),
    );
    assert.equal(answer.spec.limits.cpu, "2");
  } finally {
    c.close();
  }
});

test("a refused call carries a google.rpc.Status with a BadRequest naming the request's field", async () => {
  const c = client();
  try {
    const request = create(ConvertRequestSchema, {
      input: { spec: { case: "flyte", value: { cpu: { request: "2", limit: "1" } } } },
    });
    const error = await unary(c, "Convert", ConvertRequestSchema, ConvertResponseSchema, request).then(
      () => assert.fail("expected INVALID_ARGUMENT"),
      (e) => e,
    );
    assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
    const [details] = error.metadata.get("grpc-status-details-bin");
    const status = fromBinary(StatusSchema, details);
    assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
    const [any] = status.details;
    assert.equal(any.typeUrl, "type.googleapis.com/google.rpc.BadRequest");
    const bad = fromBinary(BadRequestSchema, any.value);
    assert.deepEqual(
      bad.fieldViolations.map((v) => v.field),
      ["input.flyte.cpu.request"],
    );
  } finally {
    c.close();
  }
});

test("ListAccelerators pages through the catalog of one device class", async () => {
  const c = client();
  try {
    const names = [];
    let pageToken = "";
    do {
      const request = create(ListAcceleratorsRequestSchema, {
        deviceClass: DeviceClass.GOOGLE_TPU,
        pageSize: 2,
        pageToken,
      });
      const page = await unary(c, "ListAccelerators", ListAcceleratorsRequestSchema, ListAcceleratorsResponseSchema, request);
      assert.ok(page.accelerators.length <= 2);
      names.push(...page.accelerators.map((a) => a.name));
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.deepEqual(names, ["V5E", "V5P", "V6E"]);
  } finally {
    c.close();
  }
});

test("ConvertBatch answers each item, a failed one with its google.rpc.Status", async () => {
  const c = client();
  try {
    const call = c.makeBidiStreamRequest(
      SERVICE + "ConvertBatch",
      (message) => Buffer.from(toBinary(ConvertBatchRequestSchema, message)),
      (bytes) => fromBinary(ConvertBatchResponseSchema, bytes),
    );
    const answers = [];
    const done = new Promise((resolve, reject) => {
      call.on("data", (answer) => answers.push(answer));
      call.on("end", resolve);
      call.on("error", reject);
    });
    for (const [id, requests] of [["ok", { cpu: "1" }], ["bad", { cpu: "x" }]]) {
      call.write(
        create(ConvertBatchRequestSchema, {
          id,
          input: { spec: { case: "flytekit", value: { requests } } },
          options: { outputs: [OutputForm.FLYTE_SOURCE] },
        }),
      );
    }
    call.end();
    await done;
    assert.deepEqual(
      answers.map((a) => [a.id, a.result.case]),
      [
        ["ok", "response"],
        ["bad", "error"],
      ],
    );
    assert.equal(answers[0].result.value.flyte.source, "flyte.Resources(cpu='1')");
    const status = answers[1].result.value;
    assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
    const bad = fromBinary(BadRequestSchema, status.details[0].value);
    assert.deepEqual(
      bad.fieldViolations.map((v) => v.field),
      ["input.flytekit.requests.cpu"],
    );
    // proto3 JSON of the Any detail needs its type in a registry, as for any google.rpc.Status.
    const json = toJson(ConvertBatchResponseSchema, answers[1], { registry: createRegistry(BadRequestSchema) });
    assert.equal(json.error.details[0]["@type"], "type.googleapis.com/google.rpc.BadRequest");
  } finally {
    c.close();
  }
});
