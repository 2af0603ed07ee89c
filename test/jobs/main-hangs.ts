export default async function main(): Promise<void> {
  await new Promise(() => {});
}
