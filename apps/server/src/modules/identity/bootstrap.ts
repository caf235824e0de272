/**
 * The first operator (platform admin), API.md "Operating": CANOPY_BOOTSTRAP_ADMIN_EMAIL/_PASSWORD create it at
 * start if no account has that email; without them, while no operator exists, each start prints a one-time
 * setup link (POST /setup/operator with its token) and voids the links printed before.
 */
import type { Config } from '../../config.ts';
import { SYSTEM_TENANT } from '../../platform/crypto/index.ts';
import { accountView, type AccountStore } from './account-store.ts';
import type { Caller, IdentityDeps } from './deps.ts';
import { invalidToken } from './errors.ts';
import { passwordSecrets, type AccountCreator, type SignUpInput } from './sign-up.ts';
import type { AccountTokens } from './tokens.ts';

export class OperatorBootstrap {
  constructor(
    private readonly deps: IdentityDeps,
    private readonly accounts: AccountStore,
    private readonly creator: AccountCreator,
    private readonly tokens: AccountTokens,
  ) {}

  private async operatorExists(): Promise<boolean> {
    const row = await this.deps.database.db
      .selectFrom('accounts')
      .select('id')
      .where('operator', '=', 1)
      .limit(1)
      .executeTakeFirst();
    return Boolean(row);
  }

  /** Runs at start. Returns the setup link when one was printed. */
  async run(config: Pick<Config, 'bootstrapAdmin'>): Promise<string | undefined> {
    const admin = config.bootstrapAdmin;
    if (admin) {
      const existing = await this.accounts.byEmail(admin.email);
      if (existing) {
        if (existing.operator !== 1)
          this.deps.logger.warn(
            'CANOPY_BOOTSTRAP_ADMIN_EMAIL names an existing account that is not an operator; it was left as it is',
          );
        return undefined;
      }
      const secrets = await passwordSecrets(this.deps, admin.email, admin.password);
      const created = await this.creator.create(
        { email: admin.email, password: admin.password, firstName: 'Operator', lastName: '' },
        secrets,
        { verified: true, operator: true },
      );
      if (created) {
        this.deps.logger.info(
          { accountId: created.id },
          'operator account created from CANOPY_BOOTSTRAP_ADMIN_EMAIL',
        );
        await this.deps.audit.record(SYSTEM_TENANT, {
          action: 'operator.created',
          subjectId: created.id,
          detail: { via: 'bootstrap_env' },
        });
      }
      return undefined;
    }
    if (await this.operatorExists()) return undefined;
    await this.tokens.voidAll(null, 'operator_setup');
    const token = await this.tokens.issue(null, 'operator_setup', this.deps.settings.operatorSetupTtlMs);
    const link = `${this.deps.publicUrl}/setup?token=${token}`;
    this.deps.logger.warn(
      `No operator account yet. Create it within 48 hours with this one-time link: ${link} (or set CANOPY_BOOTSTRAP_ADMIN_EMAIL and CANOPY_BOOTSTRAP_ADMIN_PASSWORD)`,
    );
    return link;
  }

  /** POST /setup/operator: creates the operator with a printed token. */
  async setup(token: string, input: SignUpInput, caller: Caller) {
    await this.deps.limiter.hit(`token:ip:${caller.ip}`, this.deps.settings.rateLimits.tokenPerIp);
    const secrets = await passwordSecrets(this.deps, input.email, input.password);
    if ((await this.operatorExists()) || !(await this.tokens.consume(token, 'operator_setup')))
      throw invalidToken();
    const created = await this.creator.create(input, secrets, { verified: true, operator: true });
    if (!created) throw invalidToken();
    await this.deps.audit.record(SYSTEM_TENANT, {
      action: 'operator.created',
      subjectId: created.id,
      detail: { via: 'setup_link' },
      ip: caller.ip,
    });
    return accountView(created);
  }
}
