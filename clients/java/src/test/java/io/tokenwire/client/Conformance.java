package io.tokenwire.client;

import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import dev.tokenwire.v1.ChatRequest;
import dev.tokenwire.v1.CopyModelRequest;
import dev.tokenwire.v1.CreateModelRequest;
import dev.tokenwire.v1.EmbedRequest;
import dev.tokenwire.v1.EmbeddingsRequest;
import dev.tokenwire.v1.GenerateRequest;
import dev.tokenwire.v1.PullModelRequest;
import dev.tokenwire.v1.PushModelRequest;
import dev.tokenwire.v1.ShowModelRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Java runner of clients/conformance/cases.json (format: its README.md): each step
 * calls {@link TokenwireClient}, turns the answer into Ollama's JSON shape with
 * {@link OllamaJson} and checks it.
 */
final class Conformance {
  private Conformance() {}

  static Map<String, Object> load() throws IOException {
    String text = Files.readString(LiveServer.ROOT.resolve("clients/conformance/cases.json"));
    Struct.Builder b = Struct.newBuilder();
    JsonFormat.parser().merge(text, b);
    return Structs.fromStruct(b.build());
  }

  private static final Pattern VAR = Pattern.compile("\\$\\{(\\w+)\\}");

  static Object substitute(Object v, Map<String, Object> names) {
    if (v instanceof String s) {
      Matcher whole = VAR.matcher(s);
      if (whole.matches()) {
        return names.get(whole.group(1));
      }
      return VAR.matcher(s).replaceAll(m -> Matcher.quoteReplacement(String.valueOf(names.get(m.group(1)))));
    } else if (v instanceof List<?> list) {
      List<Object> out = new ArrayList<>();
      list.forEach(x -> out.add(substitute(x, names)));
      return out;
    } else if (v instanceof Map<?, ?> map) {
      Map<String, Object> out = new LinkedHashMap<>();
      map.forEach((k, x) -> out.put(String.valueOf(k), substitute(x, names)));
      return out;
    }
    return v;
  }

  static final Object MISSING = new Object();

  /** RFC 6901 JSON Pointer. */
  static Object resolve(Object doc, String pointer) {
    if (pointer.isEmpty()) {
      return doc;
    }
    Object at = doc;
    for (String raw : pointer.substring(1).split("/", -1)) {
      String token = raw.replace("~1", "/").replace("~0", "~");
      if (at instanceof List<?> list) {
        if (!token.matches("\\d+") || Integer.parseInt(token) >= list.size()) {
          return MISSING;
        }
        at = list.get(Integer.parseInt(token));
      } else if (at instanceof Map<?, ?> map && map.containsKey(token)) {
        at = map.get(token);
      } else {
        return MISSING;
      }
    }
    return at;
  }

  /** JSON equality: numbers by value, whatever their Java type. */
  static boolean same(Object a, Object b) {
    if (a instanceof Number x && b instanceof Number y) {
      return x.doubleValue() == y.doubleValue();
    } else if (a instanceof List<?> x && b instanceof List<?> y) {
      if (x.size() != y.size()) {
        return false;
      }
      for (int i = 0; i < x.size(); i++) {
        if (!same(x.get(i), y.get(i))) {
          return false;
        }
      }
      return true;
    } else if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
      return x.keySet().equals(y.keySet()) && x.keySet().stream().allMatch(k -> same(x.get(k), y.get(k)));
    }
    return Objects.equals(a, b);
  }

  private static String jsonType(Object v) {
    if (v == null) {
      return "null";
    } else if (v instanceof String) {
      return "string";
    } else if (v instanceof Number) {
      return "number";
    } else if (v instanceof Boolean) {
      return "boolean";
    } else if (v instanceof List) {
      return "array";
    }
    return "object";
  }

  private static int size(Object v) {
    if (v instanceof String s) {
      return s.codePointCount(0, s.length());
    }
    return v instanceof List<?> l ? l.size() : -1;
  }

  private static boolean allHold(Object doc, Object expectations) {
    if (!(expectations instanceof List<?> list)) {
      return false;
    }
    for (Object e : list) {
      if (!holds(doc, asMap(e)).isEmpty()) {
        return false;
      }
    }
    return true;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> asMap(Object v) {
    return (Map<String, Object>) v;
  }

  /** "" when the expectation holds, else why not. */
  static String holds(Object doc, Map<String, Object> e) {
    String at = String.valueOf(e.get("at"));
    Object value = resolve(doc, at);
    if (value == MISSING) {
      return at + ": missing";
    }
    for (Map.Entry<String, Object> op : e.entrySet()) {
      Object want = op.getValue();
      boolean ok;
      double n = value instanceof Number num ? num.doubleValue() : Double.NaN;
      List<?> list = value instanceof List<?> l ? l : null;
      switch (op.getKey()) {
        case "at" -> ok = true;
        case "equals" -> ok = same(value, want);
        case "one_of" -> ok = ((List<?>) want).stream().anyMatch(w -> same(value, w));
        case "at_most" -> ok = n <= ((Number) want).doubleValue();
        case "at_least" -> ok = n >= ((Number) want).doubleValue();
        case "length" -> ok = size(value) == ((Number) want).intValue();
        case "min_length" -> ok = size(value) >= ((Number) want).intValue();
        case "type" -> ok = jsonType(value).equals(want);
        case "matches" -> ok = value instanceof String s && Pattern.compile((String) want).matcher(s).find();
        case "contains" -> ok = list != null && list.stream().anyMatch(x -> same(x, want));
        case "has_item" -> ok = list != null && list.stream().anyMatch(x -> allHold(x, want));
        case "has_no_item" -> ok = list != null && list.stream().noneMatch(x -> allHold(x, want));
        case "each" -> ok = list != null && list.stream().allMatch(x -> allHold(x, want));
        default -> {
          return "unknown op " + op.getKey();
        }
      }
      if (!ok) {
        String shown = String.valueOf(value);
        return at + ": " + shown.substring(0, Math.min(300, shown.length())) + " does not satisfy " + op.getKey() + " " + want;
      }
    }
    return "";
  }

  private static Map<String, Object> streamDocument(List<Object> chunks) {
    StringBuilder text = new StringBuilder();
    for (Object c : chunks) {
      Map<String, Object> m = asMap(c);
      if (m.get("response") instanceof String r) {
        text.append(r);
      } else if (m.get("message") instanceof Map<?, ?> msg) {
        text.append(Objects.toString(msg.get("content"), ""));
      }
    }
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("chunks", chunks);
    doc.put("last", chunks.isEmpty() ? null : chunks.get(chunks.size() - 1));
    doc.put("before_last", chunks.isEmpty() ? List.of() : chunks.subList(0, chunks.size() - 1));
    doc.put("count", chunks.size());
    doc.put("text", text.toString());
    return doc;
  }

  /** Reads a stream the way a caller would; leaving early closes it, which cancels the RPC. */
  private static Object streamed(ResponseStream<? extends MessageOrBuilder> stream, Object leaveAfter) {
    int leave = leaveAfter instanceof Number n ? n.intValue() : 0;
    List<Object> chunks = new ArrayList<>();
    try (stream) {
      for (MessageOrBuilder m : stream) {
        chunks.add(OllamaJson.toMap(m));
        if (chunks.size() == leave) {
          break;
        }
      }
    }
    return streamDocument(chunks);
  }

  private static <B extends Message.Builder> B req(Map<String, Object> args, B builder) {
    return OllamaJson.merge(args, builder);
  }

  private static Object call(TokenwireClient c, Map<String, Object> step, Map<String, Object> args) {
    boolean stream = Boolean.TRUE.equals(args.get("stream"));
    Object leave = step.get("leave_after");
    String name = String.valueOf(step.get("call"));
    switch (name) {
      case "version":
        return Map.of("version", c.version());
      case "list":
        return OllamaJson.toMap(c.list());
      case "ps":
        return OllamaJson.toMap(c.ps());
      case "show":
        return OllamaJson.toMap(c.show(req(args, ShowModelRequest.newBuilder()).build()));
      case "generate":
        GenerateRequest g = req(args, GenerateRequest.newBuilder()).build();
        return stream ? streamed(c.generateStream(g), leave) : OllamaJson.toMap(c.generate(g));
      case "chat":
        ChatRequest ch = req(args, ChatRequest.newBuilder()).build();
        return stream ? streamed(c.chatStream(ch), leave) : OllamaJson.toMap(c.chat(ch));
      case "embed":
        return OllamaJson.toMap(c.embed(req(args, EmbedRequest.newBuilder()).build()));
      case "embeddings":
        return OllamaJson.toMap(c.embeddings(req(args, EmbeddingsRequest.newBuilder()).build()));
      case "create":
        CreateModelRequest cr = req(args, CreateModelRequest.newBuilder()).build();
        return stream ? streamed(c.createStream(cr), leave) : OllamaJson.toMap(c.create(cr));
      case "copy":
        c.copy(req(args, CopyModelRequest.newBuilder()).build());
        return Map.of("status", "success");
      case "delete":
        c.delete(String.valueOf(args.get("model")));
        return Map.of("status", "success");
      case "pull":
        PullModelRequest pl = req(args, PullModelRequest.newBuilder()).build();
        return stream ? streamed(c.pullStream(pl), leave) : OllamaJson.toMap(c.pull(pl));
      case "push":
        PushModelRequest ps = req(args, PushModelRequest.newBuilder()).build();
        return stream ? streamed(c.pushStream(ps), leave) : OllamaJson.toMap(c.push(ps));
      default:
        throw new AssertionError("unknown call " + name);
    }
  }

  /** Runs one step; an AssertionError says what did not hold. */
  static void runStep(TokenwireClient client, Map<String, Object> step, Map<String, Object> names) {
    Map<String, Object> args = asMap(substitute(step.getOrDefault("args", Map.of()), names));
    TokenwireClient c =
        step.get("timeout_s") instanceof Number t
            ? client.withDeadline(Duration.ofMillis((long) (t.doubleValue() * 1000)))
            : client;
    String name = String.valueOf(step.get("call"));
    Object doc;
    try {
      doc = call(c, step, args);
    } catch (TokenwireException e) {
      Object want = substitute(step.get("expect_error"), names);
      if (want == null) {
        throw new AssertionError(name + ": unexpected error " + e.getStatus(), e);
      }
      Map<String, Object> got =
          Map.of(
              "code", e.getStatus().getCode().name(),
              "status_code", e.getStatusCode(),
              "message", e.getErrorMessage());
      asMap(want).forEach((k, v) -> {
        if (!same(got.get(k), v)) {
          throw new AssertionError(name + ": error " + got + " is not " + want);
        }
      });
      return;
    }
    if (step.get("expect_error") != null) {
      throw new AssertionError(name + ": expected " + step.get("expect_error") + ", got an answer");
    }
    Object expect = step.get("expect");
    for (Object e : expect instanceof List<?> l ? l : List.of()) {
      String why = holds(doc, asMap(substitute(e, names)));
      if (!why.isEmpty()) {
        throw new AssertionError(name + ": " + why);
      }
    }
    if (step.get("save") instanceof Map<?, ?> save) {
      save.forEach((k, p) -> names.put(String.valueOf(k), resolve(doc, String.valueOf(p))));
    }
  }

}
