// TLS and credentials with the Java client (tests/e2e/test_clients_tls.py): mutual TLS
// with an API key lists the models; the same without the key is refused.
import io.tokenwire.client.TokenwireClient;
import io.tokenwire.client.TokenwireClientBuilder;
import io.tokenwire.client.TokenwireException;
import java.io.File;

public class TlsCheck {
  private static TokenwireClientBuilder tls() {
    return TokenwireClient.builder()
        .host(System.getenv("TW_ADDR"))
        .trustCertificates(new File(System.getenv("TW_CA")))
        .clientCertificate(new File(System.getenv("TW_CERT")), new File(System.getenv("TW_KEY")));
  }

  public static void main(String[] args) {
    try (TokenwireClient client = tls().apiKey(System.getenv("TW_API_KEY")).build()) {
      System.out.println("listed " + client.list().getModelsCount());
    }
    try (TokenwireClient anonymous = tls().apiKey(null).build()) {
      anonymous.list();
      System.out.println("not refused");
    } catch (TokenwireException.Unauthenticated e) {
      System.out.println("refused " + e.getStatusCode() + " " + e.getStatus().getCode());
    }
  }
}
