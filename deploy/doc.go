// Package deploy holds the one-host deployment (docker-compose.yml at the repository root, the
// Dockerfile, Prometheus and MongoDB init files, secret templates) and the tests that keep it
// honest. There is no Docker here, so the compose file is loaded with compose-go, the library
// `docker compose` itself uses, and its security and operability invariants are checked offline.
package deploy
