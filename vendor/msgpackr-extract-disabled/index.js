// msgpackr catches this and uses its JavaScript decoder.
throw new Error('msgpackr native acceleration is not installed');
