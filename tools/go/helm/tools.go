//go:build tools

// Package tools pins Helm v3, built from its Go module; the packetcapture install tests render the chart in
// deploy/helm/packetcapture with `helm template` and lint it.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
