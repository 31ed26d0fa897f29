import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { TwilioErrors } from '@accountable/twilio';

/**
 * Validates a form or JSON body, or a query string, against its DTO. Unknown parameters are
 * dropped (Twilio ignores them); a missing body is an empty one; anything that is not a set of
 * parameters, or a value of the wrong shape, is 400 20002 — never a 500.
 */
@Injectable()
export class TwilioParamsPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if ((metadata.type !== 'body' && metadata.type !== 'query') || !metadata.metatype || metadata.metatype === Object) return value;
    // Only an absent body is empty: JSON `null` is a body, and not a set of parameters.
    const params = value === undefined ? {} : value;
    if (params === null || typeof params !== 'object' || Array.isArray(params)) throw TwilioErrors.invalidParameter('The request body must be a set of parameters');
    const dto = plainToInstance(metadata.metatype, params, { excludeExtraneousValues: false });
    const errors = validateSync(dto as object, { whitelist: true, forbidNonWhitelisted: false, forbidUnknownValues: false });
    if (errors.length) {
      const message = errors.flatMap((e) => Object.values(e.constraints ?? {})).join('; ');
      throw TwilioErrors.invalidParameter(message);
    }
    // A repeated query parameter counts by its first value (request.parser.ts). In a body a
    // repeat is refused: taking either value of `Status=suspended&Status=active` would be a guess.
    if (metadata.type === 'body') {
      for (const [name, given] of Object.entries(dto as object)) {
        if (given !== null && typeof given === 'object') throw TwilioErrors.invalidParameter(`${name} must be given once, as a single value`);
      }
    }
    return dto;
  }
}
