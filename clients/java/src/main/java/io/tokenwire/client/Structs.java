package io.tokenwire.client;

import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Free-form JSON (tool arguments, schemas, model_info, create's parameters) between
 * plain Java values ({@code Map}, {@code List}, {@code String}, {@code Number},
 * {@code Boolean}, {@code null}) and google.protobuf.Struct, so callers never build one.
 */
public final class Structs {
  private Structs() {}

  public static Struct toStruct(Map<String, ?> map) {
    Struct.Builder b = Struct.newBuilder();
    map.forEach((k, v) -> b.putFields(k, toValue(v)));
    return b.build();
  }

  public static Value toValue(Object v) {
    if (v == null) {
      return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
    } else if (v instanceof Boolean b) {
      return Value.newBuilder().setBoolValue(b).build();
    } else if (v instanceof Number n) {
      return Value.newBuilder().setNumberValue(n.doubleValue()).build();
    } else if (v instanceof CharSequence s) {
      return Value.newBuilder().setStringValue(s.toString()).build();
    } else if (v instanceof Map<?, ?> m) {
      Struct.Builder b = Struct.newBuilder();
      m.forEach((k, x) -> b.putFields(String.valueOf(k), toValue(x)));
      return Value.newBuilder().setStructValue(b).build();
    } else if (v instanceof Iterable<?> items) {
      ListValue.Builder b = ListValue.newBuilder();
      items.forEach(x -> b.addValues(toValue(x)));
      return Value.newBuilder().setListValue(b).build();
    }
    throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
  }

  /** A Struct as a Map; whole numbers come back as {@code Long}, as JSON readers give them. */
  public static Map<String, Object> fromStruct(Struct s) {
    Map<String, Object> out = new LinkedHashMap<>();
    s.getFieldsMap().forEach((k, v) -> out.put(k, fromValue(v)));
    return out;
  }

  public static Object fromValue(Value v) {
    switch (v.getKindCase()) {
      case BOOL_VALUE:
        return v.getBoolValue();
      case NUMBER_VALUE:
        double d = v.getNumberValue();
        return d == Math.rint(d) && Math.abs(d) < 9.007199254740992e15 ? (Object) (long) d : d;
      case STRING_VALUE:
        return v.getStringValue();
      case STRUCT_VALUE:
        return fromStruct(v.getStructValue());
      case LIST_VALUE:
        List<Object> items = new ArrayList<>();
        v.getListValue().getValuesList().forEach(x -> items.add(fromValue(x)));
        return items;
      default:
        return null;
    }
  }
}
