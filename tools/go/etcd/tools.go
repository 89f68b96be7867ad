//go:build tools

// Package tools pins the etcd server that the Kubernetes 1.36 apiserver expects (3.6).
package tools

import _ "go.etcd.io/etcd/server/v3"
