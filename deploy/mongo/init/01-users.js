// Runs once, when the mongo container starts on an empty data directory (docker-entrypoint-initdb.d),
// authenticated as the root user. Creates the two least-privilege users the deployment uses, with
// passwords read from Docker secrets so none appears in the compose file, env or logs:
//   campaignpulse   readWrite on campaignpulse   (ingest, aggregate)
//   grafana_reader  read on campaignpulse        (the Grafana datasource plugin)
const fs = require('fs');
const secret = (name) => fs.readFileSync('/run/secrets/' + name, 'utf8').trim();

const app = db.getSiblingDB('campaignpulse');
app.createUser({
  user: 'campaignpulse',
  pwd: secret('mongo_app_password'),
  roles: [{ role: 'readWrite', db: 'campaignpulse' }],
});
app.createUser({
  user: 'grafana_reader',
  pwd: secret('mongo_grafana_password'),
  roles: [{ role: 'read', db: 'campaignpulse' }],
});
