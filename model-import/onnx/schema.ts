/**
 * The messages of the ONNX schema (onnx/onnx.proto, https://github.com/onnx/onnx,
 * Copyright (c) ONNX Project Contributors, MIT licence) that a model file needs:
 * ModelProto and what it contains. Field names and numbers are ONNX's own;
 * messages for training, functions, sparse and sequence/map types are left
 * out (protobuf skips the fields it does not know). Decoded by protobufjs
 * (see ../README.md, "ONNX", for why that decoder).
 */
import protobuf from 'protobufjs';

const ONNX_PROTO = `
syntax = "proto2";
package onnx;
message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10; SPARSE_TENSOR = 11; SPARSE_TENSORS = 12; TYPE_PROTO = 13; TYPE_PROTOS = 14; }
  optional string name = 1;
  optional string ref_attr_name = 21;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
}
message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
}
message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}
message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}
message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}
message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional bytes raw_data = 9;
  repeated StringStringEntryProto external_data = 13;
  optional int32 data_location = 14;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
}
message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    };
  };
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
}
message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

let modelType: protobuf.Type | undefined;

/** The protobufjs type of onnx.ModelProto (parsed once). */
export function modelProto(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
}

/** Decoded messages, as protobufjs returns them with keepCase (int64 as number or Long). */
export type Int64 = number | { toNumber(): number };
export interface TensorMsg {
  dims: Int64[]; data_type?: number; float_data: number[]; int32_data: number[]; int64_data: Int64[]; double_data: number[]; uint64_data: Int64[];
  name?: string; raw_data?: Uint8Array; external_data: { key?: string; value?: string }[]; data_location?: number;
}
export interface AttributeMsg {
  name?: string; ref_attr_name?: string; type?: number; f?: number; i?: Int64; s?: Uint8Array; t?: TensorMsg; g?: unknown;
  floats: number[]; ints: Int64[]; strings: Uint8Array[]; tensors: TensorMsg[]; graphs: unknown[];
}
export interface NodeMsg { input: string[]; output: string[]; name?: string; op_type?: string; domain?: string; attribute: AttributeMsg[] }
export interface DimMsg { dim_value?: Int64; dim_param?: string }
export interface ValueInfoMsg { name?: string; type?: { tensor_type?: { elem_type?: number; shape?: { dim: DimMsg[] } } } }
export interface GraphMsg { node: NodeMsg[]; name?: string; initializer: TensorMsg[]; input: ValueInfoMsg[]; output: ValueInfoMsg[]; value_info: ValueInfoMsg[] }
export interface ModelMsg {
  ir_version?: Int64; opset_import: { domain?: string; version?: Int64 }[]; producer_name?: string; producer_version?: string;
  graph?: GraphMsg; metadata_props: { key?: string; value?: string }[];
}

export const int64 = (v: Int64 | undefined | null): number => (v === undefined || v === null ? 0 : typeof v === 'number' ? v : v.toNumber());
