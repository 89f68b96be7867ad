//go:build tools

// Package tools pins the Envoy Gateway controller v1.9.1, built and run out of cluster by the proxy-rollouts
// scenario tests (an EG upgrade v1.8.0 → v1.9.1 against the real control plane).
package tools

import _ "github.com/envoyproxy/gateway/cmd/envoy-gateway"
