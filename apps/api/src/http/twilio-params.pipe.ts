import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { TwilioErrors } from '@accountable/twilio';

/**
 * Validates a form or JSON body against its DTO. Unknown parameters are dropped (Twilio ignores
 * them); a missing body is an empty one; anything that is not a set of parameters, or a value of
 * the wrong shape, is 400 20002 — never a 500.
 */
@Injectable()
export class TwilioParamsPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body' || !metadata.metatype || metadata.metatype === Object) return value;
    const body = value === undefined || value === null || value === '' ? {} : value;
    if (typeof body !== 'object' || Array.isArray(body)) throw TwilioErrors.invalidParameter('The request body must be a set of parameters');
    const dto = plainToInstance(metadata.metatype, body, { excludeExtraneousValues: false });
    const errors = validateSync(dto as object, { whitelist: true, forbidNonWhitelisted: false, forbidUnknownValues: false });
    if (errors.length) {
      const message = errors.flatMap((e) => Object.values(e.constraints ?? {})).join('; ');
      throw TwilioErrors.invalidParameter(message);
    }
    return dto;
  }
}
