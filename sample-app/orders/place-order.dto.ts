import { IsInt, IsNotEmpty, IsPositive, IsString } from 'class-validator';

/** The body of POST /orders; ValidationPipe answers 400 with the reasons when it does not hold. */
export class PlaceOrderDto {
  @IsString()
  @IsNotEmpty()
  item!: string;

  @IsInt()
  @IsPositive()
  quantity!: number;
}
