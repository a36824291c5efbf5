import { Injectable, Logger } from '@nestjs/common';
import {
  OnScalekitInterceptor,
  type ScalekitInterceptorContext,
  ScalekitInterceptorDecision,
  type ScalekitInterceptorRequest,
  type ScalekitInterceptorResponse,
} from 'nestjs-scalekit-webhooks';

/** Sign-ups from these domains are refused. */
export const BLOCKED_DOMAINS = new Set(['blocked.example']);
/** People of these domains join their company's existing organization instead of creating one. */
export const KNOWN_DOMAINS = new Map([['acmecorp.com', 'org_58342286432109876']]);

/** Decides sign-ups and adds a claim to sessions: Scalekit waits for these answers. */
@Injectable()
export class SignupPolicyInterceptor {
  private readonly logger = new Logger(SignupPolicyInterceptor.name);

  @OnScalekitInterceptor('PRE_SIGNUP')
  preSignup(request: ScalekitInterceptorRequest<'PRE_SIGNUP'>): ScalekitInterceptorResponse<'PRE_SIGNUP'> {
    const domain = request.interceptor_context.user_email?.split('@')[1]?.toLowerCase() ?? '';
    if (BLOCKED_DOMAINS.has(domain)) {
      return ScalekitInterceptorDecision.deny('Sign-ups from this domain are not accepted', 'DOMAIN_BLOCKED');
    }
    const organizationId = KNOWN_DOMAINS.get(domain);
    if (organizationId !== undefined) {
      return ScalekitInterceptorDecision.allow({
        create_organization_membership: { organization_id: organizationId, roles: ['member'] },
      });
    }
    return ScalekitInterceptorDecision.allow();
  }

  @OnScalekitInterceptor('PRE_SESSION_CREATION')
  async preSessionCreation(
    request: ScalekitInterceptorRequest<'PRE_SESSION_CREATION'>,
    context: ScalekitInterceptorContext<'PRE_SESSION_CREATION'>,
  ): Promise<ScalekitInterceptorResponse<'PRE_SESSION_CREATION'>> {
    // A real app would look the plan up here, passing context.signal to the database or fetch call.
    const plan = await this.planOf(request.data.user.id, context.signal);
    this.logger.log(`Session for ${request.data.user.id}: plan ${plan}`);
    return ScalekitInterceptorDecision.allow({ claims: { plan } });
  }

  private async planOf(_userId: string, signal: AbortSignal): Promise<string> {
    signal.throwIfAborted();
    return 'pro';
  }
}
