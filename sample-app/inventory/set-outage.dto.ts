import { IsBoolean } from 'class-validator';

/** The body of POST /admin/inventory/outage. */
export class SetOutageDto {
  @IsBoolean()
  on!: boolean;
}
