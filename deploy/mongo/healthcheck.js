// The mongo service's healthcheck (mongosh --nodb): healthy only when both least-privilege users
// created by init/01-users.js log in with the passwords in their Docker secrets and can list the
// pipeline database's collections. A ping would pass with a failed init script (no users, a
// password file changed after the first start), and the services depending on a healthy mongo
// would then start only to fail authentication.
const fs = require('fs');
const secret = (name) => fs.readFileSync('/run/secrets/' + name, 'utf8').trim();

const users = [
  ['campaignpulse', 'mongo_app_password'],
  ['grafana_reader', 'mongo_grafana_password'],
];
for (const [user, file] of users) {
  try {
    const uri = 'mongodb://' + encodeURIComponent(user) + ':' + encodeURIComponent(secret(file)) +
      '@127.0.0.1:27017/campaignpulse?authSource=campaignpulse&serverSelectionTimeoutMS=3000';
    const conn = new Mongo(uri);
    conn.getDB('campaignpulse').getCollectionNames(); // listCollections: needs the login and the read role
    conn.close();
  } catch (e) {
    print('campaignpulse: MongoDB user ' + user + ' cannot log in and read: ' + e.message);
    quit(1);
  }
}
quit(0);
