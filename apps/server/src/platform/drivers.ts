/**
 * The drivers only some deployments use (PostgreSQL, MySQL, Redis, SMTP, S3), loaded the first time one is
 * needed rather than when the server starts, so that a node on the embedded defaults (SQLite, local files, no
 * Redis, no SMTP) never loads them: together ~9 MB of JavaScript heap and ~24 MB resident (measured beside
 * fastify and kysely, session 20). Each is CommonJS, so a `require` loads it where the caller cannot wait.
 */
import { createRequire } from 'node:module';
import type * as S3 from '@aws-sdk/client-s3';
import type * as IORedis from 'ioredis';
import type * as MySQL from 'mysql2';
import type * as Nodemailer from 'nodemailer';
import type * as Pg from 'pg';

const require = createRequire(import.meta.url);

export const pgDriver = () => require('pg') as typeof Pg;
export const mysqlDriver = () => require('mysql2') as typeof MySQL;
export const redisDriver = () => require('ioredis') as typeof IORedis;
export const smtpDriver = () => require('nodemailer') as typeof Nodemailer;
export const s3Driver = () => require('@aws-sdk/client-s3') as typeof S3;
