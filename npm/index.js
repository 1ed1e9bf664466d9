// Every message, enum and service of the flyteres IDL. Each file also has its own
// entry point: "flyteres-idl/v1/resources", "flyteres-idl/v2/spec",
// "flyteres-idl/v2/service", and the google.rpc types the service's errors use.
export * from "./dist/flyteres/v1/resources_pb.js";
export * from "./dist/flyteres/v2/spec_pb.js";
export * from "./dist/flyteres/v2/service_pb.js";
