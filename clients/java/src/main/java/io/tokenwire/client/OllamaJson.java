package io.tokenwire.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.Struct;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.Timestamps;
import dev.tokenwire.v1.Embedding;
import dev.tokenwire.v1.Format;
import dev.tokenwire.v1.Think;
import dev.tokenwire.v1.ThinkLevel;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Ollama's REST JSON, as plain Java values, to and from the contract's messages: for
 * code that already holds Ollama-shaped JSON (a gateway, a port from a REST client), and
 * for the conformance runner. Field names are Ollama's, which are the protos' names.
 *
 * <p>The Ollama spellings: keep_alive is seconds or Go duration text; format is
 * {@code "json"} or a schema; think is a boolean or a level; enums are lower-case words
 * ({@code "stop"}); timestamps are RFC 3339 text; Struct fields are plain maps;
 * embeddings are lists of numbers; a single value where a list is expected is a list of
 * one, as Ollama takes {@code input} and {@code license}. Unknown keys are ignored, as
 * Ollama ignores them.
 */
public final class OllamaJson {
  private OllamaJson() {}

  /** Fills {@code builder} from Ollama JSON and returns it. */
  public static <B extends Message.Builder> B merge(Map<String, ?> json, B builder) {
    Descriptor d = builder.getDescriptorForType();
    for (Map.Entry<String, ?> e : json.entrySet()) {
      FieldDescriptor f = d.findFieldByName(e.getKey());
      Object v = e.getValue();
      if (f == null || v == null) {
        continue;
      }
      if (f.isMapField()) {
        for (Map.Entry<?, ?> item : ((Map<?, ?>) v).entrySet()) {
          Message.Builder entry = builder.newBuilderForField(f);
          Descriptor ed = entry.getDescriptorForType();
          entry.setField(ed.findFieldByName("key"), String.valueOf(item.getKey()));
          entry.setField(ed.findFieldByName("value"), String.valueOf(item.getValue()));
          builder.addRepeatedField(f, entry.build());
        }
      } else if (f.isRepeated()) {
        for (Object item : v instanceof List<?> list ? list : List.of(v)) {
          builder.addRepeatedField(f, valueFor(builder, f, item));
        }
      } else {
        builder.setField(f, valueFor(builder, f, v));
      }
    }
    return builder;
  }

  private static Object valueFor(Message.Builder parent, FieldDescriptor f, Object v) {
    switch (f.getJavaType()) {
      case MESSAGE:
        return messageFor(parent, f, v);
      case ENUM:
        return enumFor(f.getEnumType(), v);
      case STRING:
        return String.valueOf(v);
      case BOOLEAN:
        if (v instanceof Boolean b) {
          return b;
        }
        break;
      case INT:
        if (v instanceof Number n) {
          return n.intValue();
        }
        break;
      case LONG:
        if (v instanceof Number n) {
          return n.longValue();
        }
        break;
      case FLOAT:
        if (v instanceof Number n) {
          return n.floatValue();
        }
        break;
      case DOUBLE:
        if (v instanceof Number n) {
          return n.doubleValue();
        }
        break;
      case BYTE_STRING:
        if (v instanceof byte[] b) {
          return ByteString.copyFrom(b);
        }
        return ByteString.copyFrom(Base64.getDecoder().decode(String.valueOf(v)));
    }
    throw new IllegalArgumentException(
        "invalid value for " + f.getName() + ": " + v + " (" + f.getJavaType() + " expected)");
  }

  private static Object messageFor(Message.Builder parent, FieldDescriptor f, Object v) {
    String type = f.getMessageType().getFullName();
    switch (type) {
      case "google.protobuf.Struct":
        return Structs.toStruct(asMap(f, v));
      case "google.protobuf.Duration":
        return KeepAlive.of(v);
      case "google.protobuf.Timestamp":
        try {
          return Timestamps.parse(String.valueOf(v));
        } catch (ParseException e) {
          throw new IllegalArgumentException("invalid time for " + f.getName() + ": " + v, e);
        }
      case "tokenwire.v1.Format":
        if ("json".equals(v)) {
          return Format.newBuilder().setJson(true).build();
        } else if (v instanceof Map<?, ?>) {
          return Format.newBuilder().setSchema(Structs.toStruct(asMap(f, v))).build();
        }
        throw new IllegalArgumentException(
            "invalid format: " + v + "; expected \"json\" or a valid JSON Schema object");
      case "tokenwire.v1.Think":
        if (v instanceof Boolean b) {
          return Think.newBuilder().setEnabled(b).build();
        }
        EnumValueDescriptor level =
            ThinkLevel.getDescriptor().findValueByName("THINK_LEVEL_" + String.valueOf(v).toUpperCase(Locale.ROOT));
        if (level == null || v instanceof Number) {
          throw new IllegalArgumentException(
              "invalid think value: \"" + v + "\" (must be \"high\", \"medium\", \"low\", \"max\", true, or false)");
        }
        return Think.newBuilder().setLevel(ThinkLevel.valueOf(level)).build();
      default:
        return merge(asMap(f, v), parent.newBuilderForField(f)).build();
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, ?> asMap(FieldDescriptor f, Object v) {
    if (v instanceof Map<?, ?> m) {
      return (Map<String, ?>) m;
    }
    throw new IllegalArgumentException(f.getName() + " must be a JSON object");
  }

  /** Ollama's word for an enum value: DONE_REASON_STOP is "stop". */
  public static String word(EnumValueDescriptor v) {
    String prefix = prefixOf(v.getType());
    String name = v.getName();
    if (name.endsWith("_UNSPECIFIED")) {
      return "";
    }
    return (name.startsWith(prefix) ? name.substring(prefix.length()) : name).toLowerCase(Locale.ROOT);
  }

  private static String prefixOf(EnumDescriptor e) {
    return e.getName().replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT) + "_";
  }

  private static EnumValueDescriptor enumFor(EnumDescriptor e, Object v) {
    if (v instanceof Number n) {
      return e.findValueByNumber(n.intValue());
    }
    EnumValueDescriptor found = e.findValueByName(prefixOf(e) + String.valueOf(v).toUpperCase(Locale.ROOT));
    if (found == null) {
      throw new IllegalArgumentException("invalid " + e.getName() + ": " + v);
    }
    return found;
  }

  /** A message as Ollama's JSON: every plain field, set messages and set optionals. */
  public static Map<String, Object> toMap(MessageOrBuilder m) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
      if (f.isRepeated()) {
        List<Object> items = new ArrayList<>();
        int n = m.getRepeatedFieldCount(f);
        for (int i = 0; i < n; i++) {
          items.add(jsonOf(f, m.getRepeatedField(f, i)));
        }
        if (f.isMapField()) {
          Map<String, Object> map = new LinkedHashMap<>();
          for (Object entry : items) {
            @SuppressWarnings("unchecked")
            Map<String, Object> e = (Map<String, Object>) entry;
            map.put(String.valueOf(e.get("key")), e.get("value"));
          }
          out.put(f.getName(), map);
        } else {
          out.put(f.getName(), items);
        }
      } else if (!f.hasPresence() || m.hasField(f)) {
        out.put(f.getName(), jsonOf(f, m.getField(f)));
      }
    }
    return out;
  }

  private static Object jsonOf(FieldDescriptor f, Object v) {
    if (v instanceof EnumValueDescriptor e) {
      return word(e);
    } else if (v instanceof ByteString b) {
      if (f.getName().equals("bytes")) { // logprob bytes: Ollama's JSON has a list of ints
        List<Integer> ints = new ArrayList<>();
        for (byte x : b.toByteArray()) {
          ints.add(x & 0xff);
        }
        return ints;
      }
      return Base64.getEncoder().encodeToString(b.toByteArray());
    } else if (v instanceof Struct s) {
      return Structs.fromStruct(s);
    } else if (v instanceof Timestamp t) {
      return Timestamps.toString(t);
    } else if (v instanceof Duration d) {
      return d.getSeconds() * 1_000_000_000L + d.getNanos();
    } else if (v instanceof Embedding e) {
      return new ArrayList<Object>(e.getValuesList());
    } else if (v instanceof Format fm) {
      return fm.hasSchema() ? Structs.fromStruct(fm.getSchema()) : (fm.getJson() ? "json" : "");
    } else if (v instanceof Think t) {
      return t.hasLevel() ? word(t.getLevel().getValueDescriptor()) : (Object) t.getEnabled();
    } else if (v instanceof MessageOrBuilder msg) {
      return toMap(msg);
    }
    return v;
  }
}
