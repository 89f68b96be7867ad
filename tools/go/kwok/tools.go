//go:build tools

// Package tools pins kwok (fake nodes and pods) and kwokctl (which starts a
// whole cluster from local binaries) at a release whose go.mod fits Go 1.26.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
	_ "sigs.k8s.io/kwok/cmd/kwokctl"
)
