// Nodemailer's smtp-server for smtpx's interop tests (internal/interop).
//
// Listens on 127.0.0.1, on a port the system picks and prints on the first
// line of standard output. Configured by $SMTP_SERVER_CONFIG, a JSON object:
//   dir       store each message as received (dot-unstuffed) as DIR/NNNN.eml
//   log       append the dialogue, every command ("C:") and reply ("S:"), here
//   cert, key PEM files: STARTTLS is offered (and required before AUTH)
//   user, password   the one AUTH account (PLAIN and LOGIN)
//   rcpt      {"address": [code, "text"]}: the reply to RCPT TO for it
//   options   passed to SMTPServer as they are (size, hide8BITMIME, ...)
'use strict';

const fs = require('fs');
const path = require('path');
const util = require('util');
const { SMTPServer } = require('smtp-server');

const cfg = JSON.parse(process.env.SMTP_SERVER_CONFIG);
const log = fs.createWriteStream(cfg.log, { flags: 'a' });
const write = (level) => (meta, ...args) => log.write(level + ' ' + util.format(...args) + '\n');
const logger = { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error'), trace: () => {}, fatal: write('fatal') };

let count = 0;
const server = new SMTPServer(Object.assign({
    name: 'smtp-server.test',
    logger,
    key: fs.readFileSync(cfg.key),
    cert: fs.readFileSync(cfg.cert),
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, session, callback) {
        if (auth.username === cfg.user && auth.password === cfg.password) {
            return callback(null, { user: auth.username });
        }
        return callback(new Error('Invalid username or password'));
    },
    onRcptTo(address, session, callback) {
        const rule = (cfg.rcpt || {})[address.address];
        if (rule) {
            const err = new Error(rule[1]);
            err.responseCode = rule[0];
            return callback(err);
        }
        callback();
    },
    onData(stream, session, callback) {
        const chunks = [];
        stream.on('data', (c) => chunks.push(c));
        stream.on('end', () => {
            if (stream.sizeExceeded) {
                const err = new Error('Message exceeds fixed maximum message size');
                err.responseCode = 552;
                return callback(err);
            }
            count++;
            const file = path.join(cfg.dir, String(count).padStart(4, '0') + '.eml');
            fs.writeFileSync(file + '.tmp', Buffer.concat(chunks));
            fs.renameSync(file + '.tmp', file);
            callback(null, 'OK: queued as nm' + count);
        });
    }
}, cfg.options || {}));

server.on('error', (err) => log.write('error ' + err.message + '\n'));
server.listen(0, '127.0.0.1', () => {
    process.stdout.write(server.server.address().port + '\n');
});
