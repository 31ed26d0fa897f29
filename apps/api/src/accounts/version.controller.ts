import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { versionCsv, versionResource, versionXml, type VersionResource } from '@accountable/twilio';
import { Represented } from '../http/representation.interceptor';

/**
 * `GET /2010-04-01`: the entry point a 2010 client can discover Accounts from. Twilio answers it
 * without credentials (it names nothing of anyone's), and so do we.
 */
@ApiExcludeController()
@Controller()
export class VersionController {
  @Get(['2010-04-01', '2010-04-01.json', '2010-04-01.xml', '2010-04-01.csv'])
  @Represented<VersionResource>({ xml: versionXml, csv: versionCsv })
  version(): VersionResource {
    return versionResource();
  }
}
