// A program outside the repository's build, compiled with javac against the client's jar
// (tests/e2e/test_java_client.py): it streams Generate and catches a not-found error.
import dev.tokenwire.v1.GenerateRequest;
import dev.tokenwire.v1.GenerateResponse;
import dev.tokenwire.v1.Options;
import io.tokenwire.client.OllamaJson;
import io.tokenwire.client.ResponseStream;
import io.tokenwire.client.TokenwireClient;
import io.tokenwire.client.TokenwireException;

public class Main {
  public static void main(String[] args) {
    String model = args.length > 0 ? args[0] : "smollm2:135m";
    GenerateRequest request =
        GenerateRequest.newBuilder()
            .setModel(model)
            .setPrompt("Name a colour.")
            .setOptions(Options.newBuilder().setTemperature(0).setNumPredict(12).setSeed(1))
            .build();
    try (TokenwireClient client = TokenwireClient.fromEnvironment()) { // TOKENWIRE_GRPC_ADDR
      StringBuilder text = new StringBuilder();
      int chunks = 0;
      String doneReason = "";
      try (ResponseStream<GenerateResponse> stream = client.generateStream(request)) {
        for (GenerateResponse r : stream) {
          text.append(r.getResponse());
          chunks++;
          doneReason = OllamaJson.word(r.getDoneReason().getValueDescriptor());
        }
      }
      System.out.println("streamed=" + text.toString().replace("\n", "\\n"));
      System.out.println("chunks=" + chunks);
      System.out.println("done_reason=" + doneReason);
      System.out.println("unary=" + client.generate(request).getResponse().replace("\n", "\\n"));
      try {
        client.show("does-not-exist");
        System.out.println("error=none");
      } catch (TokenwireException.NotFound e) {
        System.out.println("error=" + e.getStatusCode() + " " + e.getErrorMessage());
      }
    }
  }
}
