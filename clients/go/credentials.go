package tokenwire

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// APIKey sends "authorization: Bearer <key>" with every call, as the server's
// TOKENWIRE_API_KEYS check expects. Like the Python client's headers, it is sent over
// plain text too, for meshes whose sidecars terminate TLS.
func APIKey(key string) grpc.DialOption { return grpc.WithPerRPCCredentials(bearer(key)) }

type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }

// TLSFromFiles is TLS trusting the CA in caFile (empty: the system roots), with the
// client certificate and key in certFile and keyFile for mutual TLS (empty: none).
func TLSFromFiles(caFile, certFile, keyFile string) (grpc.DialOption, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificate in %s", caFile)
		}
	}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return grpc.WithTransportCredentials(credentials.NewTLS(cfg)), nil
}
