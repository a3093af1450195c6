import { Module } from '@nestjs/common';

import { PkpassService } from './pkpass.service';

@Module({ providers: [PkpassService], exports: [PkpassService] })
export class PkpassModule {}
