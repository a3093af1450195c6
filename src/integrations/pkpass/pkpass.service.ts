import { Injectable } from '@nestjs/common';

import { PassSigningMaterial, type PassSigningMaterialInput } from './pass-signing-material';
import { buildPkpass, type PkpassInput } from './pkpass-builder';

/** The seam through which other modules sign and bundle Apple passes. */
@Injectable()
export class PkpassService {
  /**
   * Parses and checks a wallet configuration's credentials (throws PassSigningMaterialError).
   * Callers cache the result per configuration: building it costs far more than signing a pass.
   */
  createSigningMaterial(input: PassSigningMaterialInput): PassSigningMaterial {
    return new PassSigningMaterial(input);
  }

  /** A signed `.pkpass` archive (MIME type PKPASS_MIME_TYPE). */
  build(input: PkpassInput): Promise<Buffer> {
    return buildPkpass(input);
  }
}
