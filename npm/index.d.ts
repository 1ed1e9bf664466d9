export * from "./dist/flyteres/v1/resources_pb.js";
export * from "./dist/flyteres/v2/spec_pb.js";
export * from "./dist/flyteres/v2/service_pb.js";
