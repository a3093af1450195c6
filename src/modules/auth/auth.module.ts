import { Module } from '@nestjs/common';
import { AppleRateLimiter } from '../apple-web-service/apple-rate-limiter';
import { UsersModule } from '../users/users.module';
import { AuthController } from './auth.controller';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';

/**
 * Console sign-in and sessions. Sign-in attempts are counted by an instance of the same
 * in-memory + Redis fixed-window limiter the Apple web service uses (its own counters).
 */
@Module({
  imports: [UsersModule],
  controllers: [AuthController],
  providers: [SessionsRepository, SessionsService, AppleRateLimiter],
  exports: [SessionsService],
})
export class AuthModule {}
