import { Body, Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import {
  ApiCookieAuth,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { Auth, MinRole, SessionUser, TenantId } from '../../common/auth/auth.decorators';
import { DomainError } from '../../common/errors';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { AuthSessionResponseDto, ChangePasswordDto, LoginDto } from './dto/auth.dto';
import {
  clearedSessionCookieHeader,
  hashSessionId,
  sessionCookie,
  sessionCookieHeader,
} from './session-cookie';
import { SessionsService } from './sessions.service';

function requireSession(s: { userId: string; sessionIdHash: Buffer } | undefined): {
  userId: string;
  sessionIdHash: Buffer;
} {
  if (!s) throw new DomainError('UNAUTHORIZED', 'This route needs a console session (sign in first)');
  return s;
}

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  constructor(
    private readonly sessions: SessionsService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Post('login')
  @Auth('public')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Sign in to the console',
    description:
      'Sets the `wallet_session` cookie (HttpOnly, SameSite=Strict, Path=/, Secure in production). ' +
      'Wrong email and wrong password answer the same 401. Attempts are limited per email and per client IP ' +
      '(LOGIN_RATE_LIMIT_PER_EMAIL, LOGIN_RATE_LIMIT_PER_IP per minute): over it, 429 with Retry-After.',
  })
  @ApiOkResponse({ type: AuthSessionResponseDto })
  @ApiErrors(400, 401, 429)
  async login(
    @Body() dto: LoginDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AuthSessionResponseDto> {
    const started = await this.sessions.login(dto.email, dto.password, req.ip);
    void reply.header(
      'set-cookie',
      sessionCookieHeader(started.cookieValue, started.maxAgeSeconds, this.config.secureCookies),
    );
    void reply.header('cache-control', 'no-store');
    return started.body;
  }

  @Post('logout')
  @Auth('public')
  @HttpCode(204)
  @ApiOperation({ summary: 'Sign out: ends the session (if any) and clears the cookie' })
  @ApiNoContentResponse({ description: 'Signed out' })
  async logout(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    const cookie = sessionCookie(req);
    if (cookie) await this.sessions.logout(hashSessionId(cookie));
    void reply.header('set-cookie', clearedSessionCookieHeader(this.config.secureCookies));
  }

  @Get('me')
  @ApiCookieAuth('session')
  @ApiOperation({ summary: 'The signed-in user, tenant and CSRF token (same shape as sign-in)' })
  @ApiOkResponse({ type: AuthSessionResponseDto })
  @ApiErrors(401)
  async me(
    @SessionUser() session: { userId: string; sessionIdHash: Buffer } | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AuthSessionResponseDto> {
    void reply.header('cache-control', 'no-store');
    return this.sessions.me(requireSession(session).sessionIdHash);
  }

  @Post('password')
  @MinRole('viewer')
  @HttpCode(204)
  @ApiCookieAuth('session')
  @ApiHeader({ name: 'X-CSRF-Token', required: true, description: 'The csrfToken from sign-in' })
  @ApiOperation({ summary: "Change the signed-in user's password; the user's other sessions end" })
  @ApiNoContentResponse({ description: 'Changed' })
  @ApiErrors(400, 401, 403)
  async changePassword(
    @TenantId() tenantId: string,
    @SessionUser() session: { userId: string; sessionIdHash: Buffer } | undefined,
    @Body() dto: ChangePasswordDto,
  ): Promise<void> {
    const s = requireSession(session);
    await this.sessions.changePassword(
      tenantId,
      s.userId,
      s.sessionIdHash,
      dto.currentPassword,
      dto.newPassword,
    );
  }
}
