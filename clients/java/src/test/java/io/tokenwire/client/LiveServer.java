package io.tokenwire.client;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The one live server every test class shares (Surefire runs them in one JVM): the real
 * one, from the repository's venv, with the default model and one slot
 * (clients/conformance/README.md). Started on first use, stopped when the JVM exits.
 */
final class LiveServer {
  static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();
  private static String address;

  private LiveServer() {}

  static synchronized String address() {
    if (address == null) {
      address = start();
    }
    return address;
  }

  private static String start() {
    try {
      Path models = Files.createTempDirectory("tokenwire-java-");
      ProcessBuilder pb =
          new ProcessBuilder(ROOT.resolve(".venv/bin/python").toString(), "-m", "server")
              .directory(ROOT.toFile())
              .redirectErrorStream(true);
      pb.environment().put("OLLAMA_MODELS", models.toString());
      pb.environment().put("TOKENWIRE_GRPC_ADDR", "127.0.0.1:0");
      pb.environment().put("OLLAMA_NUM_PARALLEL", "1");
      Process server = pb.start();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(server, models)));
      CompletableFuture<String> found = new CompletableFuture<>();
      Pattern listening = Pattern.compile("listening on (\\S+):(\\d+)");
      Thread reader =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = r.readLine()) != null) {
                    Matcher m = listening.matcher(line);
                    if (m.find()) {
                      found.complete(m.group(1) + ":" + m.group(2));
                    }
                  }
                } catch (IOException e) {
                  found.completeExceptionally(e);
                }
                found.completeExceptionally(new IllegalStateException("the server exited"));
              });
      reader.setDaemon(true);
      reader.start();
      return found.get(120, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (Exception e) {
      throw new IllegalStateException("the server did not start", e);
    }
  }

  private static void stop(Process server, Path models) {
    server.destroy(); // SIGTERM: the server drains and exits
    try {
      if (!server.waitFor(60, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
      try (Stream<Path> files = Files.walk(models)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    } catch (InterruptedException | IOException e) {
      server.destroyForcibly();
    }
  }
}
