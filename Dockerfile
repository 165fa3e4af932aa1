# syntax=docker/dockerfile:1
# campaignpulse: one static binary, subcommands ingest | aggregate | topics | simulate | run.
# The golang tag follows the go directive in go.mod (deploy/compose_test.go checks it).

FROM golang:1.26.8 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# timetzdata embeds the IANA zone database: day windows use the app's time zone.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -tags timetzdata -ldflags='-s -w' \
      -o /out/campaignpulse ./aggregator/cmd/campaignpulse

# Alpine rather than distroless: busybox wget serves the compose healthchecks.
FROM alpine:3.22
RUN apk add --no-cache ca-certificates \
 && adduser -D -H -u 10001 campaignpulse \
 && install -d -o 10001 -g 10001 /var/lib/campaignpulse
COPY --from=build /out/campaignpulse /usr/local/bin/campaignpulse
USER 10001:10001
EXPOSE 8090 9464
ENTRYPOINT ["/usr/local/bin/campaignpulse"]
CMD ["--help"]
