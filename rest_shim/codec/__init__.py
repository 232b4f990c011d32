"""Pure JSON <-> protobuf conversions, named by direction (x_request_to_pb, x_response_from_pb).

Never json_format.MessageToDict: it camelCases names and writes int64 as strings.
Every function here writes Ollama's exact shapes: omit-empty fields, numbers as
numbers, durations in nanoseconds, created_at as RFC 3339 with nanoseconds in UTC.
"""
