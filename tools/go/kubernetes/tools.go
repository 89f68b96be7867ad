//go:build tools

// Package tools pins the Kubernetes control-plane commands that the test
// environment builds; `go build` of each command path uses this module's
// dependency graph (see go.mod for why the staging modules are replaced).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
