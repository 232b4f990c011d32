package io.tokenwire.client;

import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.CompositeChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;

/** Builds a {@link TokenwireClient}: where, how long, how secure, as whom. */
public final class TokenwireClientBuilder {
  /** The server's default address (tokenwire_common/wire.py). */
  public static final String DEFAULT_HOST = "127.0.0.1:50051";
  /** The server's message limit (tokenwire_common/wire.py): images and blobs are large. */
  private static final int MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

  private String host = System.getenv().getOrDefault("TOKENWIRE_GRPC_ADDR", DEFAULT_HOST);
  private Duration deadline;
  private boolean tls;
  private File trustCertificates;
  private File clientCertificate;
  private File clientKey;
  private String apiKey = System.getenv("TOKENWIRE_API_KEY");
  private CallCredentials callCredentials;

  TokenwireClientBuilder() {}

  /** host:port; {@code https://host:port} also turns TLS on. */
  public TokenwireClientBuilder host(String host) {
    if (host.startsWith("https://")) {
      this.tls = true;
    }
    this.host = host.replaceFirst("^https?://", "").replaceFirst("/$", "");
    return this;
  }

  /** The deadline of every call; the server stops the work when it passes. Default none. */
  public TokenwireClientBuilder deadline(Duration deadline) {
    this.deadline = deadline;
    return this;
  }

  /** TLS with the system's roots. */
  public TokenwireClientBuilder tls(boolean tls) {
    this.tls = tls;
    return this;
  }

  /** TLS trusting this CA bundle (PEM). */
  public TokenwireClientBuilder trustCertificates(File caPem) {
    this.tls = true;
    this.trustCertificates = caPem;
    return this;
  }

  /** Mutual TLS: this client's certificate chain and key (PEM). */
  public TokenwireClientBuilder clientCertificate(File certChainPem, File keyPem) {
    this.tls = true;
    this.clientCertificate = certChainPem;
    this.clientKey = keyPem;
    return this;
  }

  /** Sent as {@code authorization: Bearer <key>}; default TOKENWIRE_API_KEY. */
  public TokenwireClientBuilder apiKey(String apiKey) {
    this.apiKey = apiKey;
    return this;
  }

  /** Any other per-call credentials (OAuth, Google, ...); needs TLS. */
  public TokenwireClientBuilder callCredentials(CallCredentials credentials) {
    this.callCredentials = credentials;
    return this;
  }

  private ChannelCredentials channelCredentials() {
    if (!tls) {
      return InsecureChannelCredentials.create();
    }
    try {
      TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
      if (trustCertificates != null) {
        b.trustManager(trustCertificates);
      }
      if (clientCertificate != null) {
        b.keyManager(clientCertificate, clientKey);
      }
      ChannelCredentials creds = b.build();
      return callCredentials == null ? creds : CompositeChannelCredentials.create(creds, callCredentials);
    } catch (IOException e) {
      throw new UncheckedIOException("reading TLS files", e);
    }
  }

  public TokenwireClient build() {
    ManagedChannelBuilder<?> b =
        Grpc.newChannelBuilder(host, channelCredentials()).maxInboundMessageSize(MAX_MESSAGE_BYTES);
    if (apiKey != null && !apiKey.isEmpty()) {
      Metadata headers = new Metadata();
      headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + apiKey);
      b.intercept(MetadataUtils.newAttachHeadersInterceptor(headers));
    }
    ManagedChannel channel = b.build();
    return new TokenwireClient(channel, true, deadline);
  }
}
