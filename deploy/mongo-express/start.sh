#!/bin/sh
# Entry point of the mongo-express service (profile admin). Mongo Express reads its MongoDB
# connection string and its login only from the environment; this puts them there from the Docker
# secrets (so they are in neither the compose file nor `docker inspect`) and runs the image's own
# entrypoint. It connects as MongoDB's root user: it is an administration tool, published on
# 127.0.0.1 only, behind its own login (user admin, password in deploy/secrets/mongo_express_password).
set -eu
secret() { cat "/run/secrets/$1"; }
ME_CONFIG_MONGODB_URL="mongodb://root:$(secret mongo_root_password)@mongo:27017/?authSource=admin"
ME_CONFIG_BASICAUTH_PASSWORD=$(secret mongo_express_password)
# Session cookies signed with a key of this deployment, not the image's default "secret".
ME_CONFIG_SITE_SESSIONSECRET=$(printf '%s' "$ME_CONFIG_BASICAUTH_PASSWORD" | sha256sum | cut -c1-40)
ME_CONFIG_SITE_COOKIESECRET=$ME_CONFIG_SITE_SESSIONSECRET
export ME_CONFIG_MONGODB_URL ME_CONFIG_BASICAUTH_PASSWORD ME_CONFIG_SITE_SESSIONSECRET ME_CONFIG_SITE_COOKIESECRET
exec /sbin/tini -- /docker-entrypoint.sh mongo-express
